package master_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/job"
	"github.com/ossimport/ossimport/internal/master"
	"github.com/ossimport/ossimport/internal/metrics"
	"github.com/ossimport/ossimport/internal/report"
	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/memory"
	"github.com/ossimport/ossimport/internal/testenv"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/workdir"
	"github.com/ossimport/ossimport/internal/worker"
)

// storeTypes numbers the store types the tests register.
var storeTypes atomic.Int64

// withStores is a resolver giving every job the stores src and dst.
func withStores(src storage.Source, dst storage.Destination) job.Resolver {
	n := storeTypes.Add(1)
	srcType, dstType := fmt.Sprintf("master-test-src-%d", n), fmt.Sprintf("master-test-dst-%d", n)
	storage.Register(srcType, func(context.Context, storage.Spec) (storage.Store, error) { return src, nil })
	storage.Register(dstType, func(context.Context, storage.Spec) (storage.Store, error) { return dst, nil })
	return func(file string, cfg []byte, s *config.Sys) (*job.Spec, error) {
		spec, err := job.FromConfig(file, cfg, s)
		if err != nil {
			return nil, err
		}
		spec.Source, spec.Dest = storage.Spec{Type: srcType}, storage.Spec{Type: dstType}
		spec.Transfer.NoServerSideCopy = true
		return spec, nil
	}
}

// holdSource holds every read of one key until released or the read's
// context ends.
type holdSource struct {
	*memory.Store
	key     string
	release chan struct{}
}

func (h *holdSource) Open(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	if key == h.key {
		select {
		case <-h.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return h.Store.Open(ctx, key, off, n)
}

// TestStoppedWorkerReportsWhatItFinished stops a worker holding one
// object of a task whose other objects it copied: it reports those as a
// partial result before handing the task back, so when another worker
// finishes the task (finding them at the destination) every object is
// recorded once as copied, not as skipped.
func TestStoppedWorkerReportsWhatItFinished(t *testing.T) {
	c := newCluster(t)
	c.sys.TaskAckWait = time.Minute
	base, dst := memory.New("src"), memory.New("dst")
	for i := range 5 {
		meta := storage.Metadata{User: map[string]string{storage.ModTimeMetaKey: "1700000000"}}
		data := bytes.Repeat([]byte{byte('a' + i)}, 1000)
		if _, err := base.Put(t.Context(), fmt.Sprintf("k%03d", i), bytes.NewReader(data), 1000, meta); err != nil {
			t.Fatal(err)
		}
	}
	src := &holdSource{Store: base, key: "k000", release: make(chan struct{})}
	resolve := withStores(src, dst)
	mx := metrics.New()
	m, err := master.New(master.Options{Dir: c.dir, Bus: c.connect("master"), Settings: master.SettingsFrom(c.sys), Poll: 100 * time.Millisecond, Metrics: mx, Resolve: resolve})
	if err != nil {
		t.Fatal(err)
	}
	c.wg.Go(func() { _ = m.Run(c.ctx) })
	startWorker := func(name string) (stop func()) {
		w, err := worker.New(worker.Options{Name: name, Bus: c.connect(name), Settings: worker.SettingsFrom(c.sys), Resolve: resolve})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(c.ctx)
		done := make(chan struct{})
		c.wg.Go(func() { defer close(done); _ = w.Run(ctx) })
		return sync.OnceFunc(func() { cancel(); <-done })
	}
	stop := startWorker("10.0.0.1")
	c.submit("handback_job", "")
	// The first worker copies all but the held object (one task of 5).
	testenv.Wait(t, 30*time.Second, "the first worker to copy 4 objects", func() bool {
		page, _ := dst.List(t.Context(), storage.ListOptions{Limit: 100})
		return len(page.Objects) == 4
	})
	stop()
	close(src.release)
	startWorker("10.0.0.2")
	st := c.waitState("handback_job", tracker.Succeed)
	if st.Succeed != 1 || st.Objects.Done != 5 || st.FailedObjs != 0 {
		t.Fatalf("status %+v", st)
	}
	id := workdir.Subdirs(filepath.Join(c.dir.Job("handback_job"), workdir.Succeed))[0]
	audit, err := os.ReadFile(filepath.Join(c.dir.Task("handback_job", workdir.Succeed, "", id), workdir.AuditFile))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(audit)), "\n")
	if len(lines) != 5 || strings.Count(string(audit), " Succeed ") != 5 {
		t.Fatalf("audit.log should hold one Succeed line per object:\n%s", audit)
	}
	sum, err := report.Summary(c.dir.Reports("handback_job"))
	if err != nil || sum[report.Copied] != 5 || sum[report.Skipped] != 0 {
		t.Fatalf("reports %v (%v), want 5 copied and none skipped", sum, err)
	}
	want := "# HELP ossimport_objects_total Objects finished, by job and result code.\n# TYPE ossimport_objects_total counter\n" +
		"ossimport_objects_total{job=\"handback_job\",result=\"Succeed\"} 5\n"
	if err := testutil.GatherAndCompare(mx.Registry(), strings.NewReader(want), "ossimport_objects_total"); err != nil {
		t.Error(err)
	}
}
