package runner

import (
	"bytes"
	"context"
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

	"github.com/ossimport/ossimport/internal/job"
	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/report"
	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/memory"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// fixtures numbers fixtures so repeated runs (-count) get fresh stores.
var fixtures atomic.Int64

// fixture is a job between two fresh memory stores.
type fixture struct {
	src, dst *memory.Store
	spec     *job.Spec
	dir      workdir.Dir
}

func newFixture(t *testing.T, objects int) *fixture {
	t.Helper()
	name := fmt.Sprintf("%s-%d", strings.ReplaceAll(t.Name(), "/", "_"), fixtures.Add(1))
	f := &fixture{src: memory.Shared(name + "-src"), dst: memory.Shared(name + "-dst"), dir: workdir.Dir(t.TempDir())}
	for i := range objects {
		f.put(t, fmt.Sprintf("data/%03d.bin", i), bytes.Repeat([]byte{byte(i)}, i*10))
	}
	f.spec = &job.Spec{
		Name:     "test_job",
		Source:   storage.Spec{Type: "memory", Bucket: name + "-src"},
		Dest:     storage.Spec{Type: "memory", Bucket: name + "-dst"},
		Plan:     plan.Options{Job: "test_job", Prefix: "data/", DstPrefix: "copy/", MaxObjects: 7, MaxBytes: 1 << 30},
		Transfer: transfer.Options{MultipartThreshold: 1 << 20, PartSize: 1 << 18, PartConcurrency: 2, VerifyAfterCopy: true, NoServerSideCopy: true},
		Threads:  4,
	}
	return f
}

// register makes st a store type of its own and returns the type, for
// a fixture's spec to use st as its source or destination.
func register(st storage.Store) string {
	typ := fmt.Sprintf("test-%d", fixtures.Add(1))
	storage.Register(typ, func(context.Context, storage.Spec) (storage.Store, error) { return st, nil })
	return typ
}

func (f *fixture) put(t *testing.T, key string, data []byte) {
	t.Helper()
	if _, err := f.src.Put(t.Context(), key, bytes.NewReader(data), int64(len(data)), storage.Metadata{}); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) run(t *testing.T, ctx context.Context, onTask func(string, record.Counters)) Summary {
	t.Helper()
	r, err := New(ctx, Options{Job: f.spec, Dir: f.dir, OnTask: onTask})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := r.Run(ctx)
	if err != nil && ctx.Err() == nil {
		t.Fatalf("run: %v", err)
	}
	return sum
}

// checkCopied compares every source object with its copy.
func (f *fixture) checkCopied(t *testing.T) {
	t.Helper()
	page, _ := f.src.List(t.Context(), storage.ListOptions{Prefix: "data/", Limit: 1 << 20})
	for _, o := range page.Objects {
		want := read(t, f.src, o.Key)
		if got := read(t, f.dst, "copy/"+strings.TrimPrefix(o.Key, "data/")); !bytes.Equal(got, want) {
			t.Fatalf("%s: copy differs", o.Key)
		}
	}
}

func read(t *testing.T, st *memory.Store, key string) []byte {
	t.Helper()
	rc, err := st.Open(t.Context(), key, 0, -1)
	if err != nil {
		t.Fatalf("open %s: %v", key, err)
	}
	defer rc.Close()
	data, _ := io.ReadAll(rc)
	return data
}

func taskDirs(t *testing.T, f *fixture, state string) []string {
	t.Helper()
	return workdir.Subdirs(filepath.Join(f.dir.Job("test_job"), state))
}

func TestRunCopiesEverything(t *testing.T) {
	f := newFixture(t, 50)
	sum := f.run(t, t.Context(), nil)
	if !sum.OK() || sum.Counters.Copied != 50 || sum.Tasks.Succeed != 8 || !sum.ScanFinished {
		t.Fatalf("summary %+v", sum)
	}
	f.checkCopied(t)
	for _, id := range taskDirs(t, f, workdir.Succeed) {
		status, _ := os.ReadFile(filepath.Join(f.dir.Task("test_job", workdir.Succeed, "", id), record.StatusFile))
		if strings.TrimSpace(string(status)) != record.Completed {
			t.Errorf("task %s STATUS %q", id, status)
		}
	}
	// A second run finds nothing to do.
	var again atomic.Int32
	sum = f.run(t, t.Context(), func(string, record.Counters) { again.Add(1) })
	if again.Load() != 0 || sum.Counters.Objects != 50 || sum.Tasks.Succeed != 8 {
		t.Fatalf("second run ran %d tasks, summary %+v", again.Load(), sum)
	}
}

func TestRunResumesWithoutRedoingTasks(t *testing.T) {
	f := newFixture(t, 60)
	f.spec.Threads = 1
	ctx, cancel := context.WithCancel(t.Context())
	var first atomic.Int32
	f.run(t, ctx, func(string, record.Counters) {
		if first.Add(1) == 3 {
			cancel()
		}
	})
	if n := len(taskDirs(t, f, workdir.Succeed)); n < 3 || n >= 9 {
		t.Fatalf("%d tasks finished before the interruption, want 3 to 8", n)
	}
	var second atomic.Int32
	sum := f.run(t, t.Context(), func(string, record.Counters) { second.Add(1) })
	if !sum.OK() || int(first.Load()+second.Load()) != 9 {
		t.Fatalf("tasks run: %d then %d, want 9 in all; summary %+v", first.Load(), second.Load(), sum)
	}
	f.checkCopied(t)
	if pending := taskDirs(t, f, workdir.Pending); len(pending) != 0 {
		t.Fatalf("tasks left pending: %v", pending)
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

func TestRunRetriesFailedObjectsOnly(t *testing.T) {
	f := newFixture(t, 20)
	f.spec.Source.Type = register(&changingSource{Store: f.src, key: "data/005.bin"})

	sum := f.run(t, t.Context(), nil)
	if sum.OK() || sum.Counters.Failed != 1 || sum.Counters.ByCode[transfer.SizeNotMatch] != 1 || sum.Tasks.Failed != 1 {
		t.Fatalf("first run: %+v, want one SIZE_NOT_MATCH in one failed task", sum)
	}
	failed := taskDirs(t, f, workdir.Failed)
	keys, _ := record.ReadErrorList(f.dir.Task("test_job", workdir.Failed, "", failed[0]))
	if len(keys) != 1 || keys[0] != "data/005.bin" {
		t.Fatalf("error.list %q", keys)
	}

	var copied atomic.Int64
	sum = f.run(t, t.Context(), func(_ string, c record.Counters) { copied.Add(c.WrittenBytes) })
	if !sum.OK() || sum.Tasks.Succeed != 3 || sum.Tasks.Failed != 0 {
		t.Fatalf("retry: %+v", sum)
	}
	if copied.Load() != 15 {
		t.Errorf("retry wrote %d bytes, want only the 15 of the changed object", copied.Load())
	}
	f.checkCopied(t)
}

func TestIncrementalPlansOnlyNewAndChanged(t *testing.T) {
	f := newFixture(t, 10)
	f.spec.Incremental, f.spec.Interval = true, 50*time.Millisecond
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	rounds := make(chan plan.Task, 100)
	onTask := func(id string, _ record.Counters) {
		task, err := record.ReadTask(f.dir.Task("test_job", workdir.Succeed, "", id))
		if err != nil {
			t.Error(err)
		}
		rounds <- task
	}
	errc := make(chan error, 1)
	go func() {
		r, err := New(ctx, Options{Job: f.spec, Dir: f.dir, OnTask: onTask})
		if err == nil {
			_, err = r.Run(ctx)
		}
		errc <- err
	}()
	planned := map[int][]string{}
	deadline := time.After(20 * time.Second)
	for len(planned[0]) < 10 {
		select {
		case task := <-rounds:
			for _, o := range task.Objects {
				planned[task.Round] = append(planned[task.Round], o.Key)
			}
		case <-deadline:
			t.Fatalf("full pass planned %v", planned)
		}
	}
	f.put(t, "data/new.bin", []byte("new"))
	f.put(t, "data/003.bin", []byte("changed content"))
	for {
		select {
		case task := <-rounds:
			if task.Round == 0 {
				t.Fatalf("full pass planned again: %v", task.Objects)
			}
			for _, o := range task.Objects {
				planned[task.Round] = append(planned[task.Round], o.Key)
			}
		case <-deadline:
			t.Fatalf("rescans planned %v, want data/003.bin and data/new.bin", planned)
		}
		var later []string
		for round, keys := range planned {
			if round > 0 {
				later = append(later, keys...)
			}
		}
		slices.Sort(later)
		if slices.Equal(later, []string{"data/003.bin", "data/new.bin"}) {
			break
		}
		if len(later) > 2 {
			t.Fatalf("rescans planned %q, want only data/003.bin and data/new.bin", later)
		}
	}
	cancel()
	if err := <-errc; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	f.checkCopied(t)
}

// brokenDest fails every write with an error nobody classifies.
type brokenDest struct{ *memory.Store }

func (b brokenDest) Put(context.Context, string, io.Reader, int64, storage.Metadata) (storage.PutResult, error) {
	return storage.PutResult{}, errors.New("disk on fire")
}

func TestAbortWhenUncaughtException(t *testing.T) {
	for _, abort := range []bool{false, true} {
		f := newFixture(t, 7)
		f.spec.Dest.Type, f.spec.Threads, f.spec.AbortOnUnknownError = register(brokenDest{f.dst}), 1, abort
		sum := f.run(t, t.Context(), nil)
		if sum.Counters.Failed != 7 || sum.Tasks.Failed != 1 {
			t.Fatalf("abort=%v: %+v", abort, sum)
		}
		dir := f.dir.Task("test_job", workdir.Failed, "", taskDirs(t, f, workdir.Failed)[0])
		audit, _ := os.ReadFile(filepath.Join(dir, record.AuditFile))
		aborted := strings.Count(string(audit), "workerAbortWhenUncatchedException")
		if abort && aborted == 0 || !abort && aborted != 0 {
			t.Errorf("abort=%v: %d objects reported as aborted:\n%s", abort, aborted, audit)
		}
	}
}

func TestDryRunCopiesNothing(t *testing.T) {
	f := newFixture(t, 30)
	r, err := New(t.Context(), Options{Job: f.spec, Dir: f.dir, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := r.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Counters.Objects != 30 || sum.Tasks.Pending != 5 || sum.Counters.Copied != 0 {
		t.Fatalf("dry run summary %+v, want 30 objects in 5 tasks planned and nothing copied", sum)
	}
	if page, _ := f.dst.List(t.Context(), storage.ListOptions{}); len(page.Objects) != 0 {
		t.Fatalf("dry run wrote %d objects", len(page.Objects))
	}
	if _, err := os.Stat(f.dir.Job("test_job")); !os.IsNotExist(err) {
		t.Fatalf("dry run wrote records: %v", err)
	}
}

// TestRunSkipsHalfFiledTask: a crash while a task was filed leaves a
// pending folder without TASK; the next run drops it and plans the task
// again.
func TestRunSkipsHalfFiledTask(t *testing.T) {
	f := newFixture(t, 12)
	half := f.dir.Task("test_job", workdir.Pending, "", "HALF_1")
	if err := os.MkdirAll(half, 0o755); err != nil {
		t.Fatal(err)
	}
	if sum := f.run(t, t.Context(), nil); !sum.OK() || sum.Counters.Copied != 12 {
		t.Fatalf("summary %+v", sum)
	}
	if _, err := os.Stat(half); !os.IsNotExist(err) {
		t.Fatalf("half-filed task folder still there: %v", err)
	}
	f.checkCopied(t)
}

// stoppingDest cancels the run once it has stored after objects, as a
// Ctrl-C in the middle of a task.
type stoppingDest struct {
	*memory.Store
	after int32
	puts  atomic.Int32
	stop  context.CancelFunc
}

func (s *stoppingDest) Put(ctx context.Context, key string, r io.Reader, size int64, meta storage.Metadata) (storage.PutResult, error) {
	if s.puts.Add(1) > s.after {
		s.stop()
		return storage.PutResult{}, context.Canceled
	}
	return s.Store.Put(ctx, key, r, size, meta)
}

// TestInterruptedTaskKeepsItsAuditLines: objects copied before an
// interruption are in the task's audit.log once the task is finished
// by the next run, with the objects copied then.
func TestInterruptedTaskKeepsItsAuditLines(t *testing.T) {
	f := newFixture(t, 7) // one task
	ctx, cancel := context.WithCancel(t.Context())
	dst := &stoppingDest{Store: f.dst, after: 3, stop: cancel}
	f.spec.Dest.Type, f.spec.Threads = register(dst), 1
	f.run(t, ctx, nil)
	if got := len(taskDirs(t, f, workdir.Succeed)); got != 0 {
		t.Fatalf("%d tasks finished, want the only one interrupted", got)
	}
	dst.after = 1 << 30
	if sum := f.run(t, t.Context(), nil); !sum.OK() || sum.Counters.Copied != 7 {
		t.Fatalf("resumed run: %+v", sum)
	}
	ids := taskDirs(t, f, workdir.Succeed)
	audit, _ := os.ReadFile(filepath.Join(f.dir.Task("test_job", workdir.Succeed, "", ids[0]), record.AuditFile))
	if n := strings.Count(string(audit), " Succeed "); n != 7 {
		t.Errorf("audit.log has %d Succeed lines, want one per object (7):\n%s", n, audit)
	}
}

// TestAuditJobVerifiesAndCopiesNothing: jobType=audit checks every
// object against the destination, reports what differs, and writes
// nothing.
func TestAuditJobVerifiesAndCopiesNothing(t *testing.T) {
	f := newFixture(t, 10)
	if sum := f.run(t, t.Context(), nil); !sum.OK() || sum.Counters.Copied != 10 {
		t.Fatalf("import: %+v", sum)
	}
	if err := f.dst.Delete(t.Context(), "copy/004.bin"); err != nil {
		t.Fatal(err)
	}
	f.dir = workdir.Dir(t.TempDir())
	f.spec.Transfer.Audit = transfer.AuditDetailed
	sum := f.run(t, t.Context(), nil)
	if sum.Counters.Verified != 9 || sum.Counters.Copied != 0 || sum.Counters.ByCode[transfer.AuditFailed] != 1 {
		t.Fatalf("audit: %+v, want 9 verified and copy/004.bin failed", sum)
	}
	if _, err := f.dst.Stat(t.Context(), "copy/004.bin"); !errors.Is(err, storage.ErrNotExist) {
		t.Fatalf("the audit copied a missing object (%v)", err)
	}
	checkReportCounts(t, f.dir, map[string]int64{report.Verified: 9, report.Failed: 1})
}
