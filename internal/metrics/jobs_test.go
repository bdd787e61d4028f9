package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

func TestWorkerCounters(t *testing.T) {
	m := New()
	for _, r := range []transfer.Result{
		{Code: transfer.Succeed, Size: 100, Bytes: 100},
		{Code: transfer.Succeed, Size: 50, Bytes: 20},
		{Code: transfer.Skipped, Size: 7},
		{Code: transfer.SourceNotFound},
		{Code: transfer.UploadFailed, Bytes: 3},
		{Code: transfer.UploadFailed},
	} {
		m.ObserveWorker("w1", "j1", r)
	}
	m.ObserveWorker("w2", "j1", transfer.Result{Code: transfer.Succeed, Size: 1, Bytes: 1})
	m.WorkerInFlight("w1", 6)
	m.WorkerInFlight("w1", -4)
	m.WorkerTasks("w1", 3)
	for _, c := range []struct {
		labels []string
		want   float64
	}{
		{[]string{"w1", "j1", "Succeed"}, 2}, {[]string{"w1", "j1", "Skipped"}, 1},
		{[]string{"w1", "j1", "SourceNotFound"}, 1}, {[]string{"w1", "j1", "UploadFailed"}, 2}, {[]string{"w2", "j1", "Succeed"}, 1},
	} {
		if got := testutil.ToFloat64(m.x.wObjects.WithLabelValues(c.labels...)); got != c.want {
			t.Errorf("worker objects%v = %v, want %v", c.labels, got, c.want)
		}
	}
	for kind, want := range map[string]float64{KindCopied: 150, KindWritten: 123, KindSkipped: 7} {
		if got := testutil.ToFloat64(m.x.wBytes.WithLabelValues("w1", "j1", kind)); got != want {
			t.Errorf("worker bytes{w1,j1,%s} = %v, want %v", kind, got, want)
		}
	}
	if got := testutil.ToFloat64(m.x.wInFlight.WithLabelValues("w1")); got != 2 {
		t.Errorf("worker in flight = %v", got)
	}
	if got := testutil.ToFloat64(m.x.running.WithLabelValues("w1")); got != 3 {
		t.Errorf("worker running tasks = %v", got)
	}
	// The service's own counters are not moved by a worker's.
	if got := testutil.CollectAndCount(m.objects); got != 0 {
		t.Errorf("ossimport_objects_total has %d series", got)
	}
	if problems, err := testutil.GatherAndLint(m.reg); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
}

func TestNilMetricsExtra(t *testing.T) {
	var m *Metrics
	m.QueueDepth("j", 1)
	m.ScanFinished("j", true)
	m.WorkerTasks("w", 1)
	m.ObserveWorker("w", "j", transfer.Result{Code: transfer.Succeed})
	m.WorkerInFlight("w", 1)
	m.WatchJobs(t.Context(), workdir.Dir(t.TempDir()), nil, 0)
}

type fakeQueue map[string]uint64

func (q fakeQueue) Pending(_ context.Context, job string) (uint64, error) {
	n, ok := q[job]
	if !ok {
		return 0, errors.New("no such job")
	}
	return n, nil
}

func TestSampleJobs(t *testing.T) {
	dir := workdir.Dir(t.TempDir())
	for job, cp := range map[string]*plan.Checkpoint{
		"done":        {Job: "done", Done: true},
		"scanning":    {Job: "scanning"},
		"incremental": {Job: "incremental", Done: true, Round: 2},
		"nocheckpt":   nil,
	} {
		if err := os.MkdirAll(dir.Job(job), 0o755); err != nil {
			t.Fatal(err)
		}
		if cp != nil {
			if err := workdir.SaveCheckpoint(dir.Checkpoint(job), cp); err != nil {
				t.Fatal(err)
			}
		}
	}
	m := New()
	m.sampleJobs(t.Context(), dir, fakeQueue{"done": 0, "scanning": 12, "incremental": 3})
	for _, c := range []struct {
		job         string
		scan, queue float64
	}{{"done", 1, 0}, {"scanning", 0, 12}, {"incremental", 0, 3}, {"nocheckpt", 0, 0}} {
		if got := testutil.ToFloat64(m.x.scanDone.WithLabelValues(c.job)); got != c.scan {
			t.Errorf("scan_finished{%s} = %v, want %v", c.job, got, c.scan)
		}
		if got := testutil.ToFloat64(m.x.queue.WithLabelValues(c.job)); got != c.queue {
			t.Errorf("queue_depth{%s} = %v, want %v", c.job, got, c.queue)
		}
	}
	// A cleaned job's series go away.
	if err := os.RemoveAll(dir.Job("scanning")); err != nil {
		t.Fatal(err)
	}
	m.sampleJobs(t.Context(), dir, fakeQueue{"done": 0})
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if strings.Contains(string(body), `job="scanning"`) {
		t.Errorf("the cleaned job is still exported:\n%s", body)
	}
	for _, want := range []string{`ossimport_scan_finished{job="done"} 1`, `ossimport_queue_depth{job="done"} 0`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("no %q in\n%s", want, body)
		}
	}
}

func TestWatchJobsStopsOnCancel(t *testing.T) {
	m := New()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	m.WatchJobs(ctx, workdir.Dir(t.TempDir()), fakeQueue{}, 1)
}
