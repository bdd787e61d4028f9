package worker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/bus/bustest"
	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/metrics"
	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/testenv"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/worker"

	_ "github.com/ossimport/ossimport/internal/job" // registers the stores
)

// metricValue returns the value of the series name{labels}, and whether
// it exists.
func metricValue(t *testing.T, m *metrics.Metrics, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, s := range f.GetMetric() {
			got := map[string]string{}
			for _, l := range s.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue series
				}
			}
			switch {
			case s.GetCounter() != nil:
				return s.GetCounter().GetValue(), true
			case s.GetGauge() != nil:
				return s.GetGauge().GetValue(), true
			}
		}
	}
	return 0, false
}

func TestWorkerObservesResults(t *testing.T) {
	work, src, dst := t.TempDir(), t.TempDir(), t.TempDir()
	for name, data := range map[string]string{"a": "aaa", "b": "bbbb"} {
		if err := os.WriteFile(filepath.Join(src, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	srv := bustest.Server(t, work)
	sys := config.DefaultSys()
	sys.WorkingDir, sys.WorkerTaskThreadNum, sys.TaskAckWait = work, 2, 10*time.Second
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	b := bustest.Connect(t, srv, "w1", bus.SetupOptions{AckWait: sys.TaskAckWait, MaxDeliver: 3, Update: true})
	cfg := fmt.Sprintf("jobName=job1\nsrcType=local\nsrcPrefix=%s/\ndestType=local\ndestBucket=%s\n", src, dst)
	data, _ := json.Marshal(protocol.Job{Name: "job1", Config: []byte(cfg), File: "job.cfg", Submitted: time.Now()})
	if err := b.CreateJob(ctx, "job1", data); err != nil {
		t.Fatal(err)
	}
	task := plan.Task{ID: "T1", Job: "job1", Bytes: 8, Objects: []transfer.Object{{Key: "a", Size: 3}, {Key: "b", Size: 4}, {Key: "gone", Size: 1}}}
	data, _ = json.Marshal(task)
	if err := b.PublishTask(ctx, "job1", "T1", data); err != nil {
		t.Fatal(err)
	}

	m := metrics.New()
	w, err := worker.New(worker.Options{Name: "w1", Bus: b, Settings: worker.SettingsFrom(sys), Metrics: m, KeepAlive: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	objects := func(result string) float64 {
		v, _ := metricValue(t, m, "ossimport_worker_objects_total", map[string]string{"worker": "w1", "job": "job1", "result": result})
		return v
	}
	finished := func() float64 {
		return objects("Succeed") + objects("SourceNotFound") + objects("UploadFailed") + objects("DownloadFailed")
	}
	testenv.Wait(t, 30*time.Second, "the worker to finish the task", func() bool { return finished() >= 3 },
		func() string { return fmt.Sprintf("%v objects finished", finished()) })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"ossimport_worker_objects_total", map[string]string{"worker": "w1", "job": "job1", "result": "Succeed"}, 2},
		{"ossimport_worker_objects_total", map[string]string{"worker": "w1", "job": "job1", "result": "SourceNotFound"}, 1},
		{"ossimport_worker_bytes_total", map[string]string{"worker": "w1", "job": "job1", "kind": "copied"}, 7},
		{"ossimport_worker_objects_in_flight", map[string]string{"worker": "w1"}, 0},
		{"ossimport_worker_up", map[string]string{"worker": "w1"}, 1},
		{"ossimport_worker_object_slots", map[string]string{"worker": "w1"}, float64(sys.WorkerTaskThreadNum)},
	} {
		got, ok := metricValue(t, m, c.name, c.labels)
		if !ok || got != c.want {
			t.Errorf("%s%v = %v (exists %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	if _, ok := metricValue(t, m, "ossimport_worker_running_tasks", map[string]string{"worker": "w1"}); !ok {
		t.Error("no ossimport_worker_running_tasks series")
	}
}
