package master_test

import (
	"context"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/master"
	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/testenv"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/worker"
)

// failingSource reports one key missing while fail is set.
type failingSource struct {
	*gatedSource
	key  string
	fail atomic.Bool
}

func (s *failingSource) Open(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	if key == s.key && s.fail.Load() {
		return nil, storage.ErrNotExist
	}
	return s.gatedSource.Open(ctx, key, off, n)
}

// TestRetriedTasksAreCountedAsWaiting: a task queued again by retry is
// counted as retrying in the master's counters (what stat reads, in
// constant time) while no worker runs it, and no longer once it ran.
func TestRetriedTasksAreCountedAsWaiting(t *testing.T) {
	f := newFailover(t, 10)
	close(f.src.listGate)
	close(f.src.release)
	src := &failingSource{gatedSource: f.src, key: "k003"}
	src.fail.Store(true)
	f.resolve = withStores(src, f.dst)
	f.startService("a", f.dir)
	ctx, stopWorker := context.WithCancel(f.ctx)
	runWorker := func(ctx context.Context, name string) chan struct{} {
		w, err := worker.New(worker.Options{Name: name, Bus: f.connect(name), Settings: worker.SettingsFrom(f.sys), KeepAlive: 300 * time.Millisecond, Resolve: f.resolve})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		f.wg.Go(func() { defer close(done); _ = w.Run(ctx) })
		return done
	}
	done := runWorker(ctx, "10.0.0.1")
	f.submit("retry_job", "")
	st := f.status(f.dir, "retry_job", tracker.Failed)
	if st.Retrying != 0 {
		t.Fatalf("a job that ended counts %d tasks retrying", st.Retrying)
	}
	stopWorker()
	<-done

	src.fail.Store(false)
	data, err := f.connect("console").Request(f.ctx, master.VerbRetry, []byte("retry_job"))
	if err != nil {
		t.Fatalf("retry: %v (%s)", err, data)
	}
	testenv.Wait(t, 30*time.Second, "the retried task to be counted as retrying", func() bool {
		doc, ok := tracker.ReadCounters(f.dir, "retry_job")
		st, err := tracker.ReadStatus(f.dir, "retry_job")
		return ok && doc.Retrying == 1 && err == nil && st.Retrying == 1 && st.Pending == 1 && st.State == tracker.Running
	})
	// The view's scan counts it the same (a master that crashed rebuilds
	// its counters that way).
	if tally, _, err := tracker.Scan(f.dir, "retry_job"); err != nil || tally.Retrying != 1 {
		t.Errorf("scan counts %d retrying (%v), want 1", tally.Retrying, err)
	}

	runWorker(f.ctx, "10.0.0.2")
	st = f.status(f.dir, "retry_job", tracker.Succeed)
	f.check(st, 2)
	doc, _ := tracker.ReadCounters(f.dir, "retry_job")
	if st.Retrying != 0 || doc.Retrying != 0 {
		t.Errorf("after the retry ran: %d retrying in the status, %d in the counters", st.Retrying, doc.Retrying)
	}
}
