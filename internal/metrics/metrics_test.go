package metrics

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ossimport/ossimport/internal/testenv"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

func TestObserveMovesCounters(t *testing.T) {
	m := New()
	m.Observe("j1", transfer.Result{Code: transfer.Succeed, Size: 100, Bytes: 60})
	m.Observe("j1", transfer.Result{Code: transfer.Succeed, Size: 50, Bytes: 50})
	m.Observe("j1", transfer.Result{Code: transfer.Skipped, Size: 7})
	m.Observe("j1", transfer.Result{Code: transfer.UploadFailed, Size: 9, Bytes: 3})
	m.Observe("j2", transfer.Result{Code: transfer.AuditOK, Size: 1})
	for _, c := range []struct {
		labels []string
		want   float64
	}{{[]string{"j1", "Succeed"}, 2}, {[]string{"j1", "Skipped"}, 1}, {[]string{"j1", "UploadFailed"}, 1}, {[]string{"j2", "AuditOK"}, 1}} {
		if got := testutil.ToFloat64(m.objects.WithLabelValues(c.labels...)); got != c.want {
			t.Errorf("objects%v = %v, want %v", c.labels, got, c.want)
		}
	}
	for kind, want := range map[string]float64{KindCopied: 150, KindWritten: 113, KindSkipped: 7} {
		if got := testutil.ToFloat64(m.bytes.WithLabelValues("j1", kind)); got != want {
			t.Errorf("bytes{j1,%s} = %v, want %v", kind, got, want)
		}
	}
	m.ScanListed("j1", 10)
	m.ScanListed("j1", 25)
	m.ScanListed("j1", 5) // a new round
	if got := testutil.ToFloat64(m.listed.WithLabelValues("j1")); got != 30 {
		t.Errorf("listed = %v, want 30", got)
	}
	m.Worker("w1", true, 1024)
	if testutil.ToFloat64(m.up.WithLabelValues("w1")) != 1 || testutil.ToFloat64(m.rate.WithLabelValues("w1")) != 1024 {
		t.Error("worker gauges")
	}
	if problems, err := testutil.GatherAndLint(m.reg); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
}

func TestNilMetrics(t *testing.T) {
	var m *Metrics
	m.Observe("j", transfer.Result{Code: transfer.Succeed})
	m.ScanListed("j", 1)
	m.Worker("w", true, 1)
	m.Tasks(nil)
	if err := m.Serve(t.Context(), ":0"); err != nil {
		t.Fatal(err)
	}
}

func TestHandlerServesTextFormat(t *testing.T) {
	m := New()
	m.Observe("my_job", transfer.Result{Code: transfer.CheckFailed})
	dir := workdir.Dir(t.TempDir())
	for _, p := range []string{
		dir.Task("my_job", workdir.Pending, "", "A"), dir.Task("my_job", workdir.Pending, "", "B"),
		dir.Task("my_job", workdir.Dispatched, "w1", "C"), dir.Task("my_job", workdir.Failed, "", "D"),
	} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(filepath.Join(dir.Job("my_job"), "reports"), 0o755)
	m.Tasks(WorkdirTasks(dir))
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("content type %q", ct)
	}
	for _, want := range []string{
		`ossimport_objects_total{job="my_job",result="CheckFailed"} 1`,
		`ossimport_tasks{job="my_job",state="pending"} 2`,
		`ossimport_tasks{job="my_job",state="running"} 1`,
		`ossimport_tasks{job="my_job",state="succeed"} 0`,
		`ossimport_tasks{job="my_job",state="failed"} 1`,
		"go_goroutines",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("no %q in\n%s", want, body)
		}
	}
}

func TestServeStopsOnCancel(t *testing.T) {
	m := New()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- m.serve(ctx, ln) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(testenv.Scale(5 * time.Second)):
		t.Fatal("Serve did not stop")
	}
	// Serve itself: an empty address is off, a bad one fails.
	if err := m.Serve(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	if err := m.Serve(context.Background(), "256.0.0.1:1"); err == nil {
		t.Fatal("bad address served")
	}
	ctx2, cancel2 := context.WithCancel(t.Context())
	go func() { time.Sleep(50 * time.Millisecond); cancel2() }()
	if err := m.Serve(ctx2, "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
}

func TestWorkers(t *testing.T) {
	m := New()
	m.Workers([]tracker.WorkerStatus{{Name: "w1", Alive: true, BytesPerSecond: 2048, Running: 3}})
	if testutil.ToFloat64(m.up.WithLabelValues("w1")) != 1 || testutil.ToFloat64(m.rate.WithLabelValues("w1")) != 2048 {
		t.Fatalf("alive worker: up %v rate %v, want 1 and 2048", testutil.ToFloat64(m.up.WithLabelValues("w1")), testutil.ToFloat64(m.rate.WithLabelValues("w1")))
	}
	// Its heartbeat expired: still listed, not alive.
	m.Workers([]tracker.WorkerStatus{{Name: "w1", Alive: false}})
	if got := testutil.ToFloat64(m.up.WithLabelValues("w1")); got != 0 {
		t.Fatalf("lost worker: up %v, want 0", got)
	}
	if got := testutil.ToFloat64(m.rate.WithLabelValues("w1")); got != 0 {
		t.Fatalf("lost worker: rate %v, want 0", got)
	}
}
