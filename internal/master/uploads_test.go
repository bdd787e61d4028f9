package master_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/job"
	"github.com/ossimport/ossimport/internal/master"
	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/testenv"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/workdir"
	"github.com/ossimport/ossimport/internal/worker"
)

// countingDest wraps a local destination: it counts the multipart
// uploads started and the parts stored, and passes every UploadPart
// through gate first. It is no server-side copier, so large objects go
// through multipart uploads.
type countingDest struct {
	storage.Destination
	mpw      storage.MultipartWriter
	calls    atomic.Int32 // UploadPart calls, gated or not
	uploaded atomic.Int32 // parts that reached the store
	creates  atomic.Int32
	mu       sync.Mutex
	gate     func(ctx context.Context, call int32) error
	// abortGate, when set, runs before every AbortMultipart.
	abortGate func(ctx context.Context) error
}

func (d *countingDest) setGate(g func(ctx context.Context, call int32) error) {
	d.mu.Lock()
	d.gate = g
	d.mu.Unlock()
}

// reset forgets the counts and opens the gate.
func (d *countingDest) reset() {
	d.setGate(nil)
	d.calls.Store(0)
	d.uploaded.Store(0)
	d.creates.Store(0)
}

func (d *countingDest) CreateMultipart(ctx context.Context, key string, meta storage.Metadata) (string, error) {
	d.creates.Add(1)
	return d.mpw.CreateMultipart(ctx, key, meta)
}

func (d *countingDest) UploadPart(ctx context.Context, key, id string, n int, r io.Reader, size int64) (storage.Part, error) {
	call := d.calls.Add(1)
	d.mu.Lock()
	gate := d.gate
	d.mu.Unlock()
	if gate != nil {
		if err := gate(ctx, call); err != nil {
			return storage.Part{}, err
		}
	}
	p, err := d.mpw.UploadPart(ctx, key, id, n, r, size)
	if err == nil {
		d.uploaded.Add(1)
	}
	return p, err
}

func (d *countingDest) ListParts(ctx context.Context, key, id string) ([]storage.Part, error) {
	return d.mpw.ListParts(ctx, key, id)
}

func (d *countingDest) CompleteMultipart(ctx context.Context, key, id string, parts []storage.Part) (storage.PutResult, error) {
	return d.mpw.CompleteMultipart(ctx, key, id, parts)
}

func (d *countingDest) AbortMultipart(ctx context.Context, key, id string) error {
	d.mu.Lock()
	gate := d.abortGate
	d.mu.Unlock()
	if gate != nil {
		if err := gate(ctx); err != nil {
			return err
		}
	}
	return d.mpw.AbortMultipart(ctx, key, id)
}

// blockAfter lets n UploadPart calls through, then blocks the others
// until their context ends, telling blocked once.
func blockAfter(n int32, blocked chan<- struct{}) func(context.Context, int32) error {
	return func(ctx context.Context, call int32) error {
		if call <= n {
			return nil
		}
		select {
		case blocked <- struct{}{}:
		default:
		}
		<-ctx.Done()
		return ctx.Err()
	}
}

var (
	registerOnce sync.Once
	testDestsMu  sync.Mutex
	testDests    = map[string]*countingDest{}
)

// uploadCluster is a cluster whose jobs write through a countingDest.
type uploadCluster struct {
	*cluster
	dst     *countingDest
	resolve job.Resolver
	file    []byte // the one large source object, "big.bin"
}

// newUploadCluster makes a cluster with one source object of size bytes.
func newUploadCluster(t *testing.T, size int) *uploadCluster {
	t.Helper()
	registerOnce.Do(func() {
		storage.Register("uploadtest", func(_ context.Context, spec storage.Spec) (storage.Store, error) {
			testDestsMu.Lock()
			defer testDestsMu.Unlock()
			return testDests[spec.Bucket], nil
		})
	})
	c := newCluster(t)
	inner, err := storage.OpenDestination(t.Context(), storage.Spec{Type: "local", Bucket: c.dest})
	if err != nil {
		t.Fatal(err)
	}
	d := &countingDest{Destination: inner, mpw: inner.(storage.MultipartWriter)}
	testDestsMu.Lock()
	testDests[t.Name()] = d
	testDestsMu.Unlock()
	t.Cleanup(func() { testDestsMu.Lock(); delete(testDests, t.Name()); testDestsMu.Unlock() })
	u := &uploadCluster{cluster: c, dst: d, file: make([]byte, size)}
	u.resolve = func(file string, cfg []byte, s *config.Sys) (*job.Spec, error) {
		spec, err := job.FromConfig(file, cfg, s)
		if err == nil {
			spec.Dest = storage.Spec{Type: "uploadtest", Bucket: t.Name()}
		}
		return spec, err
	}
	_, _ = rand.NewChaCha8([32]byte{byte(size)}).Read(u.file)
	if err := os.WriteFile(filepath.Join(c.src, "big.bin"), u.file, 0o644); err != nil {
		t.Fatal(err)
	}
	return u
}

// submitLarge submits a job copying big.bin in parts of partSize, one
// part at a time.
func (u *uploadCluster) submitLarge(name string, partSize int) {
	u.submit(name, "multipartUploadThreshold="+strconv.Itoa(2*partSize)+"\nmultipartUploadPartSize="+strconv.Itoa(partSize)+
		"\nuploadThreadNumPerLargeFile=1\n")
}

// startMaster runs a master until the returned function is called.
func (u *uploadCluster) startMaster() (stop func()) {
	ctx, cancel := context.WithCancel(u.ctx)
	m, err := master.New(master.Options{Dir: u.dir, Bus: u.connect("master"), Settings: master.SettingsFrom(u.sys), Poll: 100 * time.Millisecond, Resolve: u.resolve, Logger: u.logger("master")})
	if err != nil {
		u.t.Fatal(err)
	}
	done := make(chan struct{})
	u.wg.Go(func() { defer close(done); _ = m.Run(ctx) })
	return func() { cancel(); <-done }
}

// startWorker runs a worker: stop stops it gracefully (it hands its
// tasks back); kill drops its connection first, as a crash would, so
// its task comes back only after the ack wait.
func (u *uploadCluster) startWorker(name string) (stop, kill func()) {
	ctx, cancel := context.WithCancel(u.ctx)
	b := u.connect(name)
	w, err := worker.New(worker.Options{Name: name, Bus: b, Settings: worker.SettingsFrom(u.sys), KeepAlive: 300 * time.Millisecond, Resolve: u.resolve, Logger: u.logger(name)})
	if err != nil {
		u.t.Fatal(err)
	}
	done := make(chan struct{})
	u.wg.Go(func() { defer close(done); _ = w.Run(ctx) })
	stop = func() { cancel(); <-done }
	kill = func() { b.Close(); cancel(); <-done }
	return stop, kill
}

// waitFor waits for ch, failing the test after a generous deadline.
func (u *uploadCluster) waitFor(ch <-chan struct{}, what string) {
	u.t.Helper()
	select {
	case <-ch:
	case <-time.After(2 * time.Minute):
		u.t.Fatalf("timed out waiting for %s", what)
	}
}

// waitJob waits for the job's state, with a deadline fit for copying
// tens of MiB under the race detector on a loaded machine. A job that
// ends in another state fails the test at once, showing why.
func (u *uploadCluster) waitJob(job, state string) tracker.JobStatus {
	u.t.Helper()
	return u.waitEnd(job, state, true)
}

// waitRetried is waitJob for a job that was retried: its earlier end
// state may still show until the retry is filed.
func (u *uploadCluster) waitRetried(job, state string) tracker.JobStatus {
	u.t.Helper()
	return u.waitEnd(job, state, false)
}

func (u *uploadCluster) waitEnd(job, state string, failOnOtherEnd bool) tracker.JobStatus {
	u.t.Helper()
	var st tracker.JobStatus
	testenv.Wait(u.t, 3*time.Minute, "job "+job+" to reach "+state, func() bool {
		var err error
		st, err = tracker.ReadStatus(u.dir, job)
		if failOnOtherEnd && err == nil && st.State != state && st.Ended() {
			u.t.Fatalf("job %s ended %s, want %s: %+v\n%s", job, st.State, state, st, failedDetail(u.dir, job))
		}
		return err == nil && st.State == state
	}, func() string { return fmt.Sprintf("last status %+v\n%s", st, failedDetail(u.dir, job)) })
	return st
}

// failedDetail is the error lists and audit logs of the job's failed
// tasks, for a test's failure message.
func failedDetail(dir workdir.Dir, job string) string {
	var b strings.Builder
	for _, name := range []string{workdir.ErrorFile, workdir.AuditFile} {
		files, _ := filepath.Glob(filepath.Join(dir.Job(job), workdir.Failed, "*", name))
		for _, f := range files {
			data, _ := os.ReadFile(f)
			fmt.Fprintf(&b, "--- %s:\n%s\n", f, data)
		}
	}
	return b.String()
}

// records returns the job's upload records.
func (u *uploadCluster) records(job string) []bus.Upload {
	u.t.Helper()
	recs, err := u.connect("probe").JobUploads(u.ctx, job)
	if err != nil {
		u.t.Fatal(err)
	}
	return recs
}

// unfinished counts the multipart uploads the destination holds.
func (u *uploadCluster) unfinished() int {
	u.t.Helper()
	entries, err := os.ReadDir(filepath.Join(u.dest, ".ossimport-multipart"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		u.t.Fatal(err)
	}
	return len(entries)
}

// checkDone checks the object, and that no upload or record is left.
func (u *uploadCluster) checkDone(job string) {
	u.t.Helper()
	got, err := os.ReadFile(filepath.Join(u.dest, "big.bin"))
	if err != nil || !bytes.Equal(got, u.file) {
		u.t.Fatalf("big.bin at the destination differs from the source (%d of %d bytes, %v)", len(got), len(u.file), err)
	}
	if n := u.unfinished(); n != 0 {
		u.t.Fatalf("the destination lists %d unfinished multipart uploads after the job", n)
	}
	if recs := u.records(job); len(recs) != 0 {
		u.t.Fatalf("upload records left after the job: %+v", recs)
	}
}

// interrupt starts a job copying big.bin and lets through parts parts
// before blocking the copy; it returns once the copy is blocked, with
// the upload on record.
func (u *uploadCluster) interrupt(name string, partSize int, parts int32) (stop, kill func()) {
	u.t.Helper()
	blocked := make(chan struct{}, 1)
	u.dst.setGate(blockAfter(parts, blocked))
	u.submitLarge(name, partSize)
	stop, kill = u.startWorker("10.0.0.1")
	u.waitFor(blocked, "the copy to block after "+strconv.Itoa(int(parts))+" parts")
	if n := u.dst.uploaded.Load(); n != parts {
		u.t.Fatalf("%d parts stored before the block, want %d", n, parts)
	}
	recs := u.records(name)
	if len(recs) != 1 || recs[0].Key != "big.bin" || recs[0].DstKey != "big.bin" || recs[0].PartSize != int64(partSize) ||
		recs[0].Worker != "10.0.0.1" || recs[0].UploadID == "" || recs[0].Started.IsZero() {
		u.t.Fatalf("upload records while copying: %+v, want the one upload of big.bin", recs)
	}
	return stop, kill
}

// TestMultipartResumesAtTheFirstMissingPart: a 64 MiB object copied in
// 8 MiB parts is interrupted after 4 parts; the worker that runs the task
// next resumes the same upload and stores only the 4 missing parts.
func TestMultipartResumesAtTheFirstMissingPart(t *testing.T) {
	const size, part = 64 << 20, 8 << 20
	for _, tc := range []struct {
		name   string
		killed bool   // the first worker is killed, not stopped
		next   string // the worker that finishes
	}{
		{"killed worker, another worker finishes", true, "10.0.0.2"},
		{"graceful stop and start of the only worker", false, "10.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := newUploadCluster(t, size)
			u.startMaster()
			stop, kill := u.interrupt("resume_job", part, 4)
			if tc.killed {
				kill()
			} else {
				stop()
			}
			if n := u.unfinished(); n != 1 {
				t.Fatalf("%d uploads at the destination after the interruption, want the one to resume", n)
			}
			u.dst.reset()
			u.startWorker(tc.next)
			st := u.waitJob("resume_job", tracker.Succeed)
			if st.Objects.Done != 1 || st.FailedObjs != 0 {
				t.Fatalf("status %+v", st)
			}
			if n, c := u.dst.uploaded.Load(), u.dst.creates.Load(); n != 4 || c != 0 {
				t.Fatalf("the resumed copy stored %d parts and started %d uploads; want the 4 missing parts of the same upload", n, c)
			}
			u.checkDone("resume_job")
		})
	}
}

// TestResumeOfAVanishedUpload: the recorded upload was aborted behind
// the service's back; the next copy starts a fresh upload and succeeds
// instead of failing on the missing upload.
func TestResumeOfAVanishedUpload(t *testing.T) {
	const part = 1 << 20
	u := newUploadCluster(t, 8*part)
	u.startMaster()
	stop, _ := u.interrupt("vanished_job", part, 4)
	stop()
	rec := u.records("vanished_job")[0]
	if err := u.dst.AbortMultipart(u.ctx, rec.DstKey, rec.UploadID); err != nil {
		t.Fatal(err)
	}
	u.dst.reset()
	u.startWorker("10.0.0.1")
	st := u.waitJob("vanished_job", tracker.Succeed)
	if st.FailedObjs != 0 {
		t.Fatalf("status %+v", st)
	}
	if n, c := u.dst.uploaded.Load(), u.dst.creates.Load(); n != 8 || c != 1 {
		t.Fatalf("stored %d parts in %d new uploads; want all 8 parts in one fresh upload", n, c)
	}
	u.checkDone("vanished_job")
}

// failAfterFourParts runs a master and a worker and submits a job whose
// 8 MiB object is copied in 1 MiB parts of which all but the first 4
// keep failing transiently (503), so the job fails with its upload kept.
func failAfterFourParts(t *testing.T, name string) *uploadCluster {
	const part = 1 << 20
	u := newUploadCluster(t, 8*part)
	// A 503 gate fails its object at once. (Only here: a loaded machine's
	// slow bus round trip must not fail the other tests' copies.)
	u.sys.WorkerRetryBudget = time.Second
	u.dst.setGate(func(_ context.Context, call int32) error {
		if call > 4 {
			return storage.Transient(errors.New("503 service unavailable"))
		}
		return nil
	})
	u.startMaster()
	u.startWorker("10.0.0.1")
	u.submitLarge(name, part)
	return u
}

// TestFailedTaskKeepsItsUploadForRetry: parts that keep failing
// transiently fail the object and its task; the upload stays, on record,
// and `retry` resumes it, after which nothing is left.
func TestFailedTaskKeepsItsUploadForRetry(t *testing.T) {
	u := failAfterFourParts(t, "retry_job")
	st := u.waitJob("retry_job", tracker.Failed)
	if st.FailedObjs != 1 {
		t.Fatalf("status %+v, want the object failed", st)
	}
	if recs, n := u.records("retry_job"), u.unfinished(); len(recs) != 1 || n != 1 {
		t.Fatalf("%d records and %d uploads at the destination after the failure; want the upload kept for retry", len(recs), n)
	}
	u.dst.reset()
	if _, err := u.connect("console").Request(u.ctx, master.VerbRetry, []byte("retry_job")); err != nil {
		t.Fatal(err)
	}
	u.waitRetried("retry_job", tracker.Succeed)
	if n, c := u.dst.uploaded.Load(), u.dst.creates.Load(); n != 4 || c != 0 {
		t.Fatalf("the retry stored %d parts and started %d uploads; want the 4 missing parts of the same upload", n, c)
	}
	u.checkDone("retry_job")
}

// TestCleanOfARunningServiceThenSubmitAgain: while the running master
// cleans a finished job (held in the abort of its upload), its job poll
// goes on — another job submitted meanwhile is planned and copied — but
// the job being cleaned is not planned again; submitted again under its
// name after the clean, it is planned and copied anew.
func TestCleanOfARunningServiceThenSubmitAgain(t *testing.T) {
	const part = 1 << 20
	u := failAfterFourParts(t, "again_job")
	u.waitJob("again_job", tracker.Failed) // its upload is kept for a retry
	u.dst.reset()

	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	u.dst.mu.Lock()
	u.dst.abortGate = func(ctx context.Context) error {
		once.Do(func() { close(entered) })
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	u.dst.mu.Unlock()
	cleaned := make(chan error, 1)
	go func() {
		_, err := u.connect("console").Request(u.ctx, master.VerbClean, []byte("again_job"))
		cleaned <- err
	}()
	u.waitFor(entered, "the clean to abort the job's upload")
	u.submit("other_job", "")
	u.waitJob("other_job", tracker.Succeed)
	close(release)
	if err := <-cleaned; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(u.dir.Job("again_job")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the cleaned job's folder is back (planned again during the clean?): %v", err)
	}
	u.submitLarge("again_job", part)
	u.waitRetried("again_job", tracker.Succeed) // its Failed view may show until the new job is filed
	u.checkDone("again_job")
}

// TestCleanAbortsUnfinishedUploads: cleaning a job aborts the uploads
// its tasks left, whether the service runs (the master's clean) or not
// (the console calls master.Clean itself).
func TestCleanAbortsUnfinishedUploads(t *testing.T) {
	const part = 1 << 20
	for _, running := range []bool{true, false} {
		t.Run("service running "+strconv.FormatBool(running), func(t *testing.T) {
			u := newUploadCluster(t, 4*part)
			stopMaster := u.startMaster()
			stop, _ := u.interrupt("clean_job", part, 2)
			stop()
			if n := u.unfinished(); n != 1 {
				t.Fatalf("%d uploads at the destination before clean, want 1", n)
			}
			if running {
				if _, err := u.connect("console").Request(u.ctx, master.VerbClean, []byte("clean_job")); err != nil {
					t.Fatal(err)
				}
			} else {
				// As the console does: the job's own config (a local
				// destination in the same folder) opens the destination.
				stopMaster()
				if err := master.Clean(u.ctx, u.connect("console"), u.dir, "clean_job", job.FromConfig, u.sys); err != nil {
					t.Fatal(err)
				}
			}
			if n := u.unfinished(); n != 0 {
				t.Fatalf("the destination lists %d unfinished uploads after clean", n)
			}
			if recs := u.records("clean_job"); len(recs) != 0 {
				t.Fatalf("upload records left after clean: %+v", recs)
			}
			if _, err := os.Stat(u.dir.Job("clean_job")); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("the job's folder survived clean: %v", err)
			}
		})
	}
}
