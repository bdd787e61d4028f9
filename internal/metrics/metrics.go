// Package metrics exposes ossimport's Prometheus metrics on a registry of
// its own (not the global one):
//
//	ossimport_objects_total{job,result}          objects finished, by result code
//	ossimport_bytes_total{job,kind}              bytes: copied (sizes of copied objects),
//	                                             written (sent to the destination), skipped
//	ossimport_tasks{job,state}                   tasks by state (pending, running, succeed, failed)
//	ossimport_scan_objects_listed_total{job}     objects the scan listed
//	ossimport_worker_up{worker}                  1 while a worker heartbeats, else 0
//	ossimport_worker_bytes_per_second{worker}    a worker's reported copy rate
//	ossimport_queue_depth{job}                   tasks queued, not yet handed to a worker
//	ossimport_scan_finished{job}                 1 once the job's scan finished
//	ossimport_worker_running_tasks{worker}       tasks a worker runs
//	ossimport_worker_objects_total{worker,job,result}  objects a worker finished, by result code
//	ossimport_worker_bytes_total{worker,job,kind}      bytes a worker handled, by kind
//	ossimport_worker_objects_in_flight{worker}   objects of a worker's running tasks not finished yet
//
// A nil *Metrics is valid and records nothing, so callers need not check.
package metrics

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ossimport/ossimport/internal/transfer"
)

// Byte kinds of ossimport_bytes_total.
const (
	KindCopied  = "copied"
	KindWritten = "written"
	KindSkipped = "skipped"
)

// TaskCount is the number of tasks of a job in one state.
type TaskCount struct {
	Job, State string
	N          int
}

// Metrics holds the collectors and their registry.
type Metrics struct {
	reg     *prometheus.Registry
	objects *prometheus.CounterVec
	bytes   *prometheus.CounterVec
	listed  *prometheus.CounterVec
	up      *prometheus.GaugeVec
	rate    *prometheus.GaugeVec

	mu         sync.Mutex
	lastListed map[string]int64
	tasks      *taskCollector
	x          *extra
}

// New returns metrics registered on a fresh registry, with the Go and
// process collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		objects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ossimport_objects_total", Help: "Objects finished, by job and result code.",
		}, []string{"job", "result"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ossimport_bytes_total", Help: "Bytes by job and kind: copied (sizes of copied objects), written (sent to the destination), skipped (sizes of skipped objects).",
		}, []string{"job", "kind"}),
		listed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ossimport_scan_objects_listed_total", Help: "Objects listed by the source scan, by job.",
		}, []string{"job"}),
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ossimport_worker_up", Help: "1 while the worker heartbeats, 0 once its heartbeat expired.",
		}, []string{"worker"}),
		rate: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ossimport_worker_bytes_per_second", Help: "The worker's reported copy rate in bytes per second.",
		}, []string{"worker"}),
		lastListed: map[string]int64{},
		tasks: &taskCollector{desc: prometheus.NewDesc("ossimport_tasks",
			"Tasks by job and state (pending, running, succeed, failed).", []string{"job", "state"}, nil)},
	}
	m.reg.MustRegister(m.objects, m.bytes, m.listed, m.up, m.rate, m.tasks,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.x = newExtra(m.reg)
	return m
}

// Registry returns the registry, for tests and extra collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Observe counts one object's result.
func (m *Metrics) Observe(job string, r transfer.Result) {
	if m == nil {
		return
	}
	m.objects.WithLabelValues(job, string(r.Code)).Inc()
	switch r.Code {
	case transfer.Succeed:
		m.bytes.WithLabelValues(job, KindCopied).Add(float64(max(r.Size, 0)))
	case transfer.Skipped:
		m.bytes.WithLabelValues(job, KindSkipped).Add(float64(max(r.Size, 0)))
	}
	if r.Bytes > 0 {
		m.bytes.WithLabelValues(job, KindWritten).Add(float64(r.Bytes))
	}
}

// ScanListed records a job's scan progress: total is the objects listed
// so far (plan.Stats.Listed). The counter moves by the increase; a
// smaller total (a new scan round) is taken as a new start.
func (m *Metrics) ScanListed(job string, total int64) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	last := m.lastListed[job]
	if total < last {
		last = 0
	}
	if total > last {
		m.listed.WithLabelValues(job).Add(float64(total - last))
	}
	m.lastListed[job] = total
}

// Worker records a worker's liveness and copy rate.
func (m *Metrics) Worker(name string, up bool, bytesPerSecond float64) {
	if m == nil {
		return
	}
	v := 0.0
	if up {
		v = 1
	}
	m.up.WithLabelValues(name).Set(v)
	m.rate.WithLabelValues(name).Set(bytesPerSecond)
}

// Tasks adds a source of ossimport_tasks, called at every scrape.
func (m *Metrics) Tasks(source func() []TaskCount) {
	if m == nil {
		return
	}
	m.tasks.mu.Lock()
	m.tasks.sources = append(m.tasks.sources, source)
	m.tasks.mu.Unlock()
}

// taskCollector reports ossimport_tasks from its sources at scrape time.
type taskCollector struct {
	desc    *prometheus.Desc
	mu      sync.Mutex
	sources []func() []TaskCount
}

func (c *taskCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *taskCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	sources := append([]func() []TaskCount(nil), c.sources...)
	c.mu.Unlock()
	seen := map[[2]string]bool{}
	for _, src := range sources {
		for _, t := range src() {
			if k := [2]string{t.Job, t.State}; !seen[k] { // the first source wins
				seen[k] = true
				ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(t.N), t.Job, t.State)
			}
		}
	}
}

// Handler serves the metrics in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Serve serves /metrics on addr until ctx ends; an empty addr turns it
// off (Serve returns nil at once). It returns the listen error, or nil
// after ctx ended.
func (m *Metrics) Serve(ctx context.Context, addr string) error {
	if addr == "" || m == nil {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return m.serve(ctx, ln)
}

func (m *Metrics) serve(ctx context.Context, ln net.Listener) error {
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler())
	return ServeOn(ctx, ln, mux)
}

// ServeOn serves h on ln until ctx ends, then shuts the server down
// gracefully (5 seconds at most). It returns nil after ctx ended.
func ServeOn(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	err := srv.Serve(ln)
	cancel()
	<-done
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
