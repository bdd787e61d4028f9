package console

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/job"
	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/report"
	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/memory"
	"github.com/ossimport/ossimport/internal/testenv"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// The tests of `ossimport run`, the service in one process: runJob in
// this process, its stores memory stores given through the job
// resolver (wrapped, where a test needs it, to count, change or gate).

// runFixtures numbers fixtures so repeated runs (-count) get fresh stores.
var runFixtures atomic.Int64

// runFixture is a job between two fresh memory stores.
type runFixture struct {
	t        *testing.T
	src, dst *memory.Store
	// source and dest are the stores the job uses: src and dst, or
	// wrappers of them.
	source, dest storage.Store
	dir          workdir.Dir
	jobFile      string
	sysFile      string
	edit         func(*job.Spec)
	// every is run's --progress (0: no progress lines).
	every time.Duration
}

func newRunFixture(t *testing.T, objects int, jobExtra string) *runFixture {
	t.Helper()
	name := fmt.Sprintf("%s-%d", strings.ReplaceAll(t.Name(), "/", "_"), runFixtures.Add(1))
	f := &runFixture{t: t, src: memory.Shared(name + "-src"), dst: memory.Shared(name + "-dst"), dir: workdir.Dir(t.TempDir())}
	f.source, f.dest = f.src, f.dst
	for i := range objects {
		f.put(fmt.Sprintf("data/%03d.bin", i), bytes.Repeat([]byte{byte(i)}, i*10))
	}
	conf := t.TempDir()
	// The job file names a local source and destination that the
	// resolver replaces with the memory stores.
	f.jobFile = filepath.Join(conf, "job.cfg")
	f.write(f.jobFile, fmt.Sprintf("jobName=test_job\nsrcType=local\nsrcPrefix=%s/\ndestType=local\ndestBucket=%s\ntaskObjectCountLimit=7\n%s\n",
		t.TempDir(), t.TempDir(), jobExtra))
	f.sysFile = filepath.Join(conf, "sys.properties")
	f.write(f.sysFile, fmt.Sprintf("workingDir=%s\nnatsPort=%d\nhttpListen=\nworkerTaskThreadNum=4\ntaskAckWait=30\n", f.dir, testenv.LoopbackPort(t)))
	return f
}

func (f *runFixture) write(path, content string) {
	f.t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *runFixture) put(key string, data []byte) {
	f.t.Helper()
	if _, err := f.src.Put(context.Background(), key, bytes.NewReader(data), int64(len(data)), storage.Metadata{}); err != nil {
		f.t.Fatal(err)
	}
}

// resolve builds the job from its file, then points it at the fixture's
// stores, listing data/ into copy/.
func (f *runFixture) resolve(file string, cfg []byte, s *config.Sys) (*job.Spec, error) {
	spec, err := job.FromConfig(file, cfg, s)
	if err != nil {
		return nil, err
	}
	spec.Source = storage.Spec{Type: registerStore(f.source)}
	spec.Dest = storage.Spec{Type: registerStore(f.dest)}
	spec.Plan.Prefix, spec.Plan.DstPrefix = "data/", "copy/"
	spec.Transfer.NoServerSideCopy = true
	if f.edit != nil {
		f.edit(spec)
	}
	return spec, nil
}

// registerStore makes st a store type of its own and returns the type.
func registerStore(st storage.Store) string {
	typ := fmt.Sprintf("runtest-%d", runFixtures.Add(1))
	storage.Register(typ, func(context.Context, storage.Spec) (storage.Store, error) { return st, nil })
	return typ
}

// runResult is what one run printed and returned.
type runResult struct {
	stdout, stderr string
	code           int
	status         tracker.JobStatus
}

// run runs the job until it ends or ctx ends.
func (f *runFixture) run(ctx context.Context) runResult {
	f.t.Helper()
	var out, errOut bytes.Buffer
	err := runJob(ctx, &out, &errOut, runFlags{job: f.jobFile, sys: f.sysFile, resolve: f.resolve, every: f.every})
	r := runResult{stdout: out.String(), stderr: errOut.String(), code: exitCode(err)}
	if err != nil {
		r.stderr += "\n" + err.Error()
	}
	r.status, _ = tracker.ReadStatus(f.dir, "test_job")
	return r
}

// checkCopied compares every source object with its copy.
func (f *runFixture) checkCopied() {
	f.t.Helper()
	page, _ := f.src.List(context.Background(), storage.ListOptions{Prefix: "data/", Limit: 1 << 20})
	for _, o := range page.Objects {
		want := readStore(f.t, f.src, o.Key)
		if got := readStore(f.t, f.dst, "copy/"+strings.TrimPrefix(o.Key, "data/")); !bytes.Equal(got, want) {
			f.t.Fatalf("%s: copy differs", o.Key)
		}
	}
}

func readStore(t *testing.T, st *memory.Store, key string) []byte {
	t.Helper()
	rc, err := st.Open(context.Background(), key, 0, -1)
	if err != nil {
		t.Fatalf("open %s: %v", key, err)
	}
	defer rc.Close()
	data, _ := io.ReadAll(rc)
	return data
}

func (f *runFixture) tasks(state string) []string {
	return workdir.Subdirs(filepath.Join(f.dir.Job("test_job"), state))
}

func TestRunCopiesEverythingThenHasNothingToDo(t *testing.T) {
	f := newRunFixture(t, 50, "")
	r := f.run(t.Context())
	st := r.status
	if r.code != 0 || st.State != tracker.Succeed || st.ByCode["Succeed"] != 50 || st.Succeed != 8 || !st.ScanFinished {
		t.Fatalf("run: code %d, status %+v\n%s\n%s", r.code, st, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "copied and verified: 50") || !strings.Contains(r.stdout, "tasks: 8 succeeded, 0 failed, 0 not finished") {
		t.Errorf("summary:\n%s", r.stdout)
	}
	f.checkCopied()
	for _, id := range f.tasks(workdir.Succeed) {
		status, _ := os.ReadFile(filepath.Join(f.dir.Task("test_job", workdir.Succeed, "", id), workdir.StatusFile))
		if strings.TrimSpace(string(status)) != record.Completed {
			t.Errorf("task %s STATUS %q", id, status)
		}
	}
	// The same view and logs as the service.
	for _, log := range []string{"import.log", "master.log", "tracker.log", "worker.log"} {
		if _, err := os.Stat(filepath.Join(f.dir.Logs(), log)); err != nil {
			t.Errorf("no logs/%s: %v", log, err)
		}
	}
	imp, _ := os.ReadFile(filepath.Join(f.dir.Logs(), "import.log"))
	for _, want := range []string{`msg="job started"`, `msg="scan finished"`, `msg="job finished" job=test_job state=Succeed`} {
		if !strings.Contains(string(imp), want) {
			t.Errorf("import.log lacks %s:\n%s", want, imp)
		}
	}
	// A second run finds nothing to do and copies nothing.
	counting := &hookStore{Store: f.dst}
	f.dest = counting
	r = f.run(t.Context())
	if r.code != 0 || r.status.Succeed != 8 || counting.puts.Load() != 0 {
		t.Fatalf("second run: code %d, %d puts, status %+v", r.code, counting.puts.Load(), r.status)
	}
}

// hookStore is a memory store that counts the objects written through
// it and, when set, calls before ahead of every write (which fails when
// before does).
type hookStore struct {
	*memory.Store
	before func(ctx context.Context, n int64) error
	puts   atomic.Int64 // writes asked for
	stored atomic.Int64 // writes done
}

func (h *hookStore) Put(ctx context.Context, key string, r io.Reader, size int64, meta storage.Metadata) (storage.PutResult, error) {
	n := h.puts.Add(1)
	if h.before != nil {
		if err := h.before(ctx, n); err != nil {
			return storage.PutResult{}, err
		}
	}
	res, err := h.Store.Put(ctx, key, r, size, meta)
	if err == nil {
		h.stored.Add(1)
	}
	return res, err
}

// stopAfter interrupts the run (its cancel) once after objects were
// stored, holding every later write until the run stops, as a Ctrl-C in
// the middle of the job.
func stopAfter(after int64, cancel context.CancelFunc) func(context.Context, int64) error {
	return func(ctx context.Context, n int64) error {
		if n <= after {
			return nil
		}
		cancel()
		<-ctx.Done()
		return ctx.Err()
	}
}

func TestRunInterruptedThenResumed(t *testing.T) {
	f := newRunFixture(t, 60, "")
	ctx, cancel := context.WithCancel(t.Context())
	stopping := &hookStore{Store: f.dst, before: stopAfter(25, cancel)}
	f.dest = stopping
	r := f.run(ctx)
	if r.code != 130 || !strings.Contains(r.stderr, "interrupted; run the same command again") {
		t.Fatalf("interrupted run: code %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "not finished") || r.status.State != tracker.Running {
		t.Fatalf("interrupted run's summary/status: %+v\n%s", r.status, r.stdout)
	}
	stored := stopping.stored.Load()
	counting := &hookStore{Store: f.dst}
	f.dest = counting
	r = f.run(t.Context())
	if r.code != 0 || r.status.State != tracker.Succeed || r.status.Succeed != 9 {
		t.Fatalf("resumed run: code %d, status %+v\n%s\n%s", r.code, r.status, r.stdout, r.stderr)
	}
	if got, want := counting.puts.Load(), 60-stored; got != want {
		t.Errorf("the resumed run wrote %d objects; want only the %d the first one did not store", got, want)
	}
	f.checkCopied()
	if pending := f.tasks(workdir.Pending); len(pending) != 0 {
		t.Fatalf("tasks left pending: %v", pending)
	}
	// The objects copied before the interruption count once: as copied
	// when their copy was verified before the stop, as skipped (found
	// at the destination) when the stop cut their verification, which
	// only the objects in flight (at most workerTaskThreadNum) can be.
	c := r.status.ByCode
	if c["Succeed"]+c["Skipped"] != 60 || c["Skipped"] > 4 {
		t.Errorf("results after the resume: %v, want 60 objects, at most the 4 in flight at the stop skipped", c)
	}
	lines := 0
	for _, id := range f.tasks(workdir.Succeed) {
		audit, _ := os.ReadFile(filepath.Join(f.dir.Task("test_job", workdir.Succeed, "", id), workdir.AuditFile))
		lines += strings.Count(string(audit), " Succeed ") + strings.Count(string(audit), " Skipped ")
	}
	if lines != 60 {
		t.Errorf("audit.log files hold %d final lines, want one per object (60)", lines)
	}
}

// changingSource rewrites one object the first time it is opened, as a
// file modified during the migration.
type changingSource struct {
	*memory.Store
	key  string
	done atomic.Bool
}

func (c *changingSource) Capabilities() storage.Capabilities {
	caps := c.Store.Capabilities()
	caps.InPlaceUpdates = true
	return caps
}

func (c *changingSource) Open(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	rc, err := c.Store.Open(ctx, key, off, n)
	if key == c.key && !c.done.Swap(true) {
		_, _ = c.Store.Put(ctx, key, strings.NewReader("the new version"), 15, storage.Metadata{})
	}
	return rc, err
}

func TestRunRetriesFailedObjectsOnlyWithReports(t *testing.T) {
	f := newRunFixture(t, 20, "")
	f.source = &changingSource{Store: f.src, key: "data/005.bin"}
	r := f.run(t.Context())
	st := r.status
	if r.code != 1 || st.State != tracker.Failed || st.FailedObjs != 1 || st.ByCode[string(transfer.SizeNotMatch)] != 1 || st.Failed != 1 {
		t.Fatalf("first run: code %d, status %+v, want one SIZE_NOT_MATCH in one failed task\n%s", r.code, st, r.stderr)
	}
	if !strings.Contains(r.stdout, "SIZE_NOT_MATCH") || !strings.Contains(r.stderr, "1 objects failed") {
		t.Errorf("first run's output:\n%s\n%s", r.stdout, r.stderr)
	}
	failed := f.tasks(workdir.Failed)
	keys, _ := record.ReadErrorList(f.dir.Task("test_job", workdir.Failed, "", failed[0]))
	if len(keys) != 1 || keys[0] != "data/005.bin" {
		t.Fatalf("error.list %q", keys)
	}
	checkRunReports(t, f.dir, map[string]int64{report.Copied: 19, report.Failed: 1})
	// Checksums and the check travel from the worker to copied.csv.
	if row := reportRows(t, f.dir, report.Copied)[0]; len(row) != 8 || row[3] == "" || row[6] != transfer.CheckCRC64 || row[7] != "" {
		t.Errorf("copied row %q, want the crc64, check crc64 and no crc32c", row)
	}
	row := reportRows(t, f.dir, report.Failed)[0]
	if row[0] != "data/005.bin" || row[1] != "copy/005.bin" || row[2] != "SIZE_NOT_MATCH" || row[3] == "" {
		t.Errorf("failed row %q", row)
	}
	imp, _ := os.ReadFile(filepath.Join(f.dir.Logs(), "import.log"))
	if !strings.Contains(string(imp), `msg="object failed" job=test_job`) || !strings.Contains(string(imp), "state=Failed") {
		t.Errorf("import.log lacks the failed object or the Failed end:\n%s", imp)
	}

	// Run again: only the failed object is copied, and the reports gain
	// its row.
	counting := &hookStore{Store: f.dst}
	f.dest = counting
	r = f.run(t.Context())
	if r.code != 0 || r.status.State != tracker.Succeed || r.status.Succeed != 3 || r.status.Failed != 0 {
		t.Fatalf("retry: code %d, status %+v\n%s", r.code, r.status, r.stderr)
	}
	if counting.puts.Load() != 1 {
		t.Errorf("the retry wrote %d objects, want only the changed one", counting.puts.Load())
	}
	f.checkCopied()
	checkRunReports(t, f.dir, map[string]int64{report.Copied: 20, report.Failed: 1})
}

// checkRunReports compares the data rows of each report with want.
func checkRunReports(t *testing.T, dir workdir.Dir, want map[string]int64) {
	t.Helper()
	for _, name := range []string{report.Copied, report.Skipped, report.Failed, report.Verified} {
		if got := int64(len(reportRows(t, dir, name))); got != want[name] {
			t.Errorf("%s.csv has %d rows, want %d", name, got, want[name])
		}
	}
}

// reportRows reads test_job's CSV report without its header.
func reportRows(t *testing.T, dir workdir.Dir, name string) [][]string {
	t.Helper()
	return jobReportRows(t, dir, "test_job", name)
}

// jobReportRows reads a job's CSV report without its header.
func jobReportRows(t *testing.T, dir workdir.Dir, job, name string) [][]string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir.Reports(job), name+".csv"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		return nil
	}
	return rows[1:]
}

func TestRunIncrementalCopiesNewAndChangedEachRound(t *testing.T) {
	f := newRunFixture(t, 10, "isIncremental=true\nincrementalModeInterval=1")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan runResult, 1)
	go func() { done <- f.run(ctx) }()
	status := func() tracker.JobStatus { st, _ := tracker.ReadStatus(f.dir, "test_job"); return st }
	testenv.Wait(t, time.Minute, "the full pass", func() bool { return status().ByCode["Succeed"] == 10 })
	if st := status(); st.State != tracker.Running || st.ScanFinished {
		t.Errorf("an incremental job shows finished during its first interval: %+v", st)
	}
	f.put("data/new.bin", []byte("new"))
	f.put("data/003.bin", []byte("changed content"))
	if err := f.src.Delete(context.Background(), "data/001.bin"); err != nil {
		t.Fatal(err)
	}
	testenv.Wait(t, time.Minute, "a later round copying the new and changed objects", func() bool {
		got, err := f.dst.Stat(context.Background(), "copy/003.bin")
		_, nerr := f.dst.Stat(context.Background(), "copy/new.bin")
		return err == nil && got.Size == 15 && nerr == nil && status().ByCode["Succeed"] == 12
	})
	var later []string
	for _, state := range []string{workdir.Succeed, workdir.Pending} {
		for _, id := range f.tasks(state) {
			task, err := record.ReadTask(f.dir.Task("test_job", state, "", id))
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range task.Objects {
				if task.Round > 0 {
					later = append(later, o.Key)
				}
			}
		}
	}
	slices.Sort(later)
	if later = slices.Compact(later); !slices.Equal(later, []string{"data/003.bin", "data/new.bin"}) {
		t.Errorf("rescans planned %q, want only data/003.bin and data/new.bin", later)
	}
	if st := status(); st.State != tracker.Running || st.ScanFinished {
		t.Errorf("an incremental job shows finished: %+v", st)
	}
	cancel()
	r := <-done
	if r.code != 130 {
		t.Errorf("interrupted incremental run: code %d\n%s", r.code, r.stderr)
	}
	f.checkCopied()
	if _, err := f.dst.Stat(context.Background(), "copy/001.bin"); err != nil {
		t.Errorf("a source deletion reached the destination: %v", err)
	}
	cp, err := workdir.LoadCheckpoint(f.dir.Checkpoint("test_job"))
	if err != nil || cp == nil || cp.Round < 1 {
		t.Fatalf("checkpoint after the rounds: %+v, %v", cp, err)
	}
}

func TestRunDryRunCopiesNothing(t *testing.T) {
	f := newRunFixture(t, 30, "")
	var out, errOut bytes.Buffer
	err := runJob(t.Context(), &out, &errOut, runFlags{job: f.jobFile, sys: f.sysFile, resolve: f.resolve, dryRun: true})
	if err != nil {
		t.Fatalf("dry run: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "30 objects") || !strings.Contains(out.String(), "in 5 tasks") {
		t.Errorf("dry run summary:\n%s", out.String())
	}
	if page, _ := f.dst.List(t.Context(), storage.ListOptions{}); len(page.Objects) != 0 {
		t.Fatalf("dry run wrote %d objects", len(page.Objects))
	}
	if _, err := os.Stat(f.dir.Job("test_job")); !os.IsNotExist(err) {
		t.Fatalf("dry run wrote records: %v", err)
	}
}

// TestRunHalfFiledTask: a crash while a task was filed leaves a pending
// folder without TASK; the next run plans the task again.
func TestRunHalfFiledTask(t *testing.T) {
	f := newRunFixture(t, 12, "")
	half := f.dir.Task("test_job", workdir.Pending, "", "HALF_1")
	if err := os.MkdirAll(half, 0o755); err != nil {
		t.Fatal(err)
	}
	if r := f.run(t.Context()); r.code != 0 || r.status.ByCode["Succeed"] != 12 {
		t.Fatalf("run: code %d, status %+v\n%s", r.code, r.status, r.stderr)
	}
	f.checkCopied()
}

// TestRunAuditJobVerifiesAndCopiesNothing: jobType=audit checks every
// object against the destination, reports what differs, and writes
// nothing.
func TestRunAuditJobVerifiesAndCopiesNothing(t *testing.T) {
	f := newRunFixture(t, 10, "")
	if r := f.run(t.Context()); r.code != 0 {
		t.Fatalf("import: %d %s", r.code, r.stderr)
	}
	if err := f.dst.Delete(t.Context(), "copy/004.bin"); err != nil {
		t.Fatal(err)
	}
	// The same job audited in a fresh working directory.
	f.write(f.jobFile, strings.Replace(mustRead(t, f.jobFile), "jobName=test_job\n", "jobName=test_job\njobType=audit\n", 1))
	f.dir = workdir.Dir(t.TempDir())
	f.write(f.sysFile, fmt.Sprintf("workingDir=%s\nnatsPort=%d\nhttpListen=\n", f.dir, testenv.LoopbackPort(t)))
	r := f.run(t.Context())
	st := r.status
	if r.code != 1 || st.ByCode["AuditOK"] != 9 || st.ByCode["Succeed"] != 0 || st.ByCode[string(transfer.AuditFailed)] != 1 {
		t.Fatalf("audit: code %d, status %+v, want 9 verified and copy/004.bin failed\n%s", r.code, st, r.stderr)
	}
	if _, err := f.dst.Stat(t.Context(), "copy/004.bin"); !errors.Is(err, storage.ErrNotExist) {
		t.Fatalf("the audit copied a missing object (%v)", err)
	}
	checkRunReports(t, f.dir, map[string]int64{report.Verified: 9, report.Failed: 1})
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestRunLocksTheWorkingDirectory: a second run of the working directory
// (or a service started on it) is refused with the holder's pid while a
// run holds it; the first run then finishes with every object copied
// once.
func TestRunLocksTheWorkingDirectory(t *testing.T) {
	f := newRunFixture(t, 10, "")
	gate := make(chan struct{})
	counting := &hookStore{Store: f.dst, before: func(ctx context.Context, _ int64) error {
		select {
		case <-gate:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}}
	f.dest = counting
	done := make(chan runResult, 1)
	go func() { done <- f.run(t.Context()) }()
	testenv.Wait(t, time.Minute, "the first run to start copying", func() bool { return counting.puts.Load() > 0 })

	second := f.run(t.Context())
	// The holder is this test process, whose command line is the test
	// binary's: the message names its pid and how to stop it.
	if second.code != 1 || !strings.Contains(second.stderr, fmt.Sprintf("(pid %d)", os.Getpid())) || !strings.Contains(second.stderr, "console.sh stop") {
		t.Fatalf("second run: code %d, want it refused naming pid %d:\n%s", second.code, os.Getpid(), second.stderr)
	}
	var out, errOut bytes.Buffer
	err := runService(t.Context(), strings.NewReader(""), &errOut, serviceFlags{sys: f.sysFile, workers: filepath.Join(t.TempDir(), "workers")})
	if exitCode(err) != 1 || !strings.Contains(fmt.Sprint(err), fmt.Sprintf("(pid %d)", os.Getpid())) {
		t.Fatalf("a service beside the run: %v\n%s%s", err, out.String(), errOut.String())
	}
	close(gate)
	r := <-done
	if r.code != 0 || r.status.ByCode["Succeed"] != 10 || counting.puts.Load() != 10 {
		t.Fatalf("first run: code %d, %d puts, status %+v\n%s", r.code, counting.puts.Load(), r.status, r.stderr)
	}
	f.checkCopied()
}
