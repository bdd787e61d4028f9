package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// extra holds the collectors added after the first set: job queue and
// scan state, and the counters a worker keeps of its own work.
type extra struct {
	queue       *prometheus.GaugeVec
	scanDone    *prometheus.GaugeVec
	running     *prometheus.GaugeVec
	wObjects    *prometheus.CounterVec
	wBytes      *prometheus.CounterVec
	wInFlight   *prometheus.GaugeVec
	wSlots      *prometheus.GaugeVec
	mu          sync.Mutex
	watchedJobs map[string]bool
}

func newExtra(reg *prometheus.Registry) *extra {
	x := &extra{
		queue: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ossimport_queue_depth", Help: "Tasks of the job queued and not yet handed to a worker.",
		}, []string{"job"}),
		scanDone: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ossimport_scan_finished", Help: "1 once the job's source scan finished, else 0.",
		}, []string{"job"}),
		running: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ossimport_worker_running_tasks", Help: "Tasks the worker is running.",
		}, []string{"worker"}),
		wObjects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ossimport_worker_objects_total", Help: "Objects the worker finished, by job and result code.",
		}, []string{"worker", "job", "result"}),
		wBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ossimport_worker_bytes_total", Help: "Bytes the worker handled, by job and kind: copied, written, skipped.",
		}, []string{"worker", "job", "kind"}),
		wInFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ossimport_worker_objects_in_flight", Help: "Objects of the worker's running tasks not finished yet.",
		}, []string{"worker"}),
		wSlots: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ossimport_worker_object_slots",
			Help: "Objects the worker copies at once: workerTaskThreadNum, or where workerTaskThreadAdaptive moved it.",
		}, []string{"worker"}),
		watchedJobs: map[string]bool{},
	}
	reg.MustRegister(x.queue, x.scanDone, x.running, x.wObjects, x.wBytes, x.wInFlight, x.wSlots)
	return x
}

// QueueDepth records the number of the job's tasks waiting in the queue.
func (m *Metrics) QueueDepth(job string, n int) {
	if m == nil {
		return
	}
	m.x.queue.WithLabelValues(job).Set(float64(n))
}

// ScanFinished records whether the job's scan is over.
func (m *Metrics) ScanFinished(job string, done bool) {
	if m == nil {
		return
	}
	m.x.scanDone.WithLabelValues(job).Set(boolValue(done))
}

// WorkerTasks records the number of tasks a worker runs.
func (m *Metrics) WorkerTasks(worker string, n int) {
	if m == nil {
		return
	}
	m.x.running.WithLabelValues(worker).Set(float64(n))
}

// WorkerSlots records how many objects a worker copies at once.
func (m *Metrics) WorkerSlots(worker string, n int) {
	if m == nil {
		return
	}
	m.x.wSlots.WithLabelValues(worker).Set(float64(n))
}

// ObserveWorker counts one object's result as finished by worker.
func (m *Metrics) ObserveWorker(worker, job string, r transfer.Result) {
	if m == nil {
		return
	}
	m.x.wObjects.WithLabelValues(worker, job, string(r.Code)).Inc()
	switch r.Code {
	case transfer.Succeed:
		m.x.wBytes.WithLabelValues(worker, job, KindCopied).Add(float64(max(r.Size, 0)))
	case transfer.Skipped:
		m.x.wBytes.WithLabelValues(worker, job, KindSkipped).Add(float64(max(r.Size, 0)))
	}
	if r.Bytes > 0 {
		m.x.wBytes.WithLabelValues(worker, job, KindWritten).Add(float64(r.Bytes))
	}
}

// WorkerInFlight adds delta to the worker's objects in flight.
func (m *Metrics) WorkerInFlight(worker string, delta int) {
	if m == nil {
		return
	}
	m.x.wInFlight.WithLabelValues(worker).Add(float64(delta))
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Queue tells how many of a job's tasks wait in the task queue
// (bus.Bus.Pending).
type Queue interface {
	Pending(ctx context.Context, job string) (uint64, error)
}

// WatchJobs samples, every interval until ctx ends, each job of the
// working directory: ossimport_queue_depth from q (skipped when q is
// nil) and ossimport_scan_finished from the job's checkpoint and counters
// file (0 for an incremental job) (every <= 0
// means 10s). The series
// of a job that disappeared (cleaned) are removed.
func (m *Metrics) WatchJobs(ctx context.Context, dir workdir.Dir, q Queue, every time.Duration) {
	if m == nil {
		return
	}
	if every <= 0 {
		every = 10 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		m.sampleJobs(ctx, dir, q)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sampleJobs takes one sample for WatchJobs.
func (m *Metrics) sampleJobs(ctx context.Context, dir workdir.Dir, q Queue) {
	seen := map[string]bool{}
	for _, job := range tracker.Jobs(dir) {
		seen[job] = true
		if cp, err := workdir.LoadCheckpoint(dir.Checkpoint(job)); err == nil {
			// An incremental job's scan is never over.
			doc, _ := tracker.ReadCounters(dir, job)
			m.ScanFinished(job, cp != nil && cp.Done && cp.Round == 0 && !doc.Incremental)
		}
		if q != nil {
			if n, err := q.Pending(ctx, job); err == nil {
				m.QueueDepth(job, int(min(n, uint64(1<<31-1))))
			}
		}
	}
	m.x.mu.Lock()
	defer m.x.mu.Unlock()
	for job := range m.x.watchedJobs {
		if !seen[job] {
			m.x.queue.DeleteLabelValues(job)
			m.x.scanDone.DeleteLabelValues(job)
		}
	}
	m.x.watchedJobs = seen
}
