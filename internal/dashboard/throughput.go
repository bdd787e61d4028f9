package dashboard

import (
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/workdir"
)

// Sample is the throughput over one sample period: of every job
// together, of each job, and of each worker.
type Sample struct {
	Time time.Time `json:"time"`
	// BytesPerSecond is the copy rate: bytes of the objects copied
	// (finished and in flight; skipped objects are not copies).
	BytesPerSecond   float64 `json:"bytesPerSecond"`
	ObjectsPerSecond float64 `json:"objectsPerSecond"`
	// BytesDone and ObjectsDone are the totals at Time.
	BytesDone   int64 `json:"bytesDone"`
	ObjectsDone int64 `json:"objectsDone"`
	// Jobs holds the rates of the jobs that moved or run; Workers the
	// figures of the workers' last heartbeats.
	Jobs    map[string]Rate         `json:"jobs,omitempty"`
	Workers map[string]WorkerSample `json:"workers,omitempty"`
}

// Rate is one job's copy rate and objects finished per second.
type Rate struct {
	BytesPerSecond   float64 `json:"bytesPerSecond"`
	ObjectsPerSecond float64 `json:"objectsPerSecond"`
}

// WorkerSample is a worker as its heartbeat last reported it: bytes per
// second read from sources and the tasks it runs.
type WorkerSample struct {
	BytesPerSecond float64 `json:"bytesPerSecond"`
	Running        int     `json:"runningTasks"`
	Alive          bool    `json:"alive"`
}

// totals are one job's done counters; active says it has tasks pending
// or running.
type totals struct {
	bytes, objects int64
	active         bool
}

// history is a bounded ring of samples and the totals they were computed
// from.
type history struct {
	mu      sync.Mutex
	samples []Sample
	start   int // index of the oldest sample once the ring is full
	size    int
	prev    map[string]totals
	prevAt  time.Time
}

func newHistory(size int) *history { return &history{size: max(size, 2)} }

// add records the totals of the jobs at now and, from the second call on,
// the rates since the previous call. A job's progress counts from the
// second time it is seen; progress that goes back (a job cleaned, tasks
// requeued, an object in flight that failed) counts as none.
func (hs *history) add(now time.Time, jobs map[string]totals, workers map[string]WorkerSample) {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	prev, prevAt := hs.prev, hs.prevAt
	hs.prev, hs.prevAt = jobs, now
	if prev == nil {
		return
	}
	dt := now.Sub(prevAt).Seconds()
	if dt <= 0 {
		return
	}
	s := Sample{Time: now, Workers: workers}
	var dBytes, dObjects int64
	for name, t := range jobs {
		s.BytesDone += t.bytes
		s.ObjectsDone += t.objects
		p, ok := prev[name]
		if !ok {
			continue
		}
		db, do := max(t.bytes-p.bytes, 0), max(t.objects-p.objects, 0)
		dBytes += db
		dObjects += do
		if db > 0 || do > 0 || t.active {
			if s.Jobs == nil {
				s.Jobs = map[string]Rate{}
			}
			s.Jobs[name] = Rate{BytesPerSecond: float64(db) / dt, ObjectsPerSecond: float64(do) / dt}
		}
	}
	s.BytesPerSecond = float64(dBytes) / dt
	s.ObjectsPerSecond = float64(dObjects) / dt
	if len(hs.samples) < hs.size {
		hs.samples = append(hs.samples, s)
		return
	}
	hs.samples[hs.start] = s
	hs.start = (hs.start + 1) % hs.size
}

// all returns the samples, oldest first.
func (hs *history) all() []Sample {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	out := make([]Sample, 0, len(hs.samples))
	out = append(out, hs.samples[hs.start:]...)
	return append(out, hs.samples[:hs.start]...)
}

// last returns the newest sample; false when there is none.
func (hs *history) last() (Sample, bool) {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	if len(hs.samples) == 0 {
		return Sample{}, false
	}
	i := len(hs.samples) - 1
	if len(hs.samples) == hs.size {
		i = (hs.start + hs.size - 1) % hs.size
	}
	return hs.samples[i], true
}

// counterStamp is what a counters file looked like when it was read
// last: a file with the same size and modification time is not read
// again.
type counterStamp struct {
	mod  time.Time
	size int64
	t    totals
}

// Sample reads the jobs' counters files and the worker list now and
// adds a throughput sample; Run calls it every SampleEvery. It reads the
// master's counters file of each job (workdir.CountersFile), only when
// it changed, and never a task folder: its cost does not grow with the
// jobs' sizes, and a finished job costs one stat. A job without a
// counters file (the service did not run since it was submitted) makes
// no progress and is left out.
func (h *Handler) Sample() {
	h.sampleMu.Lock()
	defer h.sampleMu.Unlock()
	now := h.opts.Now()
	jobs := map[string]totals{}
	seen := map[string]counterStamp{}
	for _, job := range tracker.Jobs(h.opts.Dir) {
		t, ok := h.jobTotals(job, seen)
		if ok {
			jobs[job] = t
		}
	}
	h.stamps = seen
	var workers map[string]WorkerSample
	if ws, err := tracker.ReadWorkers(h.opts.Dir); err == nil && len(ws) > 0 {
		workers = make(map[string]WorkerSample, len(ws))
		for _, w := range ws {
			workers[w.Name] = WorkerSample{BytesPerSecond: w.BytesPerSecond, Running: w.Running, Alive: w.Alive}
		}
	}
	h.hist.add(now, jobs, workers)
}

// jobTotals returns a job's done counters from its counters file,
// reusing the last read while the file is unchanged; the stamp goes into
// seen. The caller holds sampleMu.
func (h *Handler) jobTotals(job string, seen map[string]counterStamp) (totals, bool) {
	fi, err := os.Stat(filepath.Join(h.opts.Dir.Job(job), workdir.CountersFile))
	if err != nil {
		return totals{}, false
	}
	if st, ok := h.stamps[job]; ok && st.size == fi.Size() && st.mod.Equal(fi.ModTime()) {
		seen[job] = st
		return st.t, true
	}
	doc, ok := tracker.ReadCounters(h.opts.Dir, job)
	if !ok {
		return totals{}, false
	}
	t := countersTotals(doc)
	seen[job] = counterStamp{mod: fi.ModTime(), size: fi.Size(), t: t}
	return t, true
}

// countersTotals are the copied bytes and finished objects of a counters
// document, the running tasks' progress included.
func countersTotals(doc tracker.CountersDoc) totals {
	t := totals{
		bytes:   doc.Finished.CopiedBytes,
		objects: doc.Finished.Done(),
		active:  doc.Pending > 0 || doc.Dispatched > 0,
	}
	for _, tp := range doc.Running {
		t.bytes += tp.Bytes.Done
		t.objects += tp.Files.Done
	}
	return t
}

// Samples returns the throughput history, oldest first.
func (h *Handler) Samples() []Sample { return h.hist.all() }

// rates returns each job's rate from the newest sample, or nil when the
// newest sample is older than two sample periods (the sampler is not
// running).
func (h *Handler) rates(now time.Time) map[string]Rate {
	s, ok := h.hist.last()
	if !ok || now.Sub(s.Time) > 2*h.opts.SampleEvery {
		return nil
	}
	if s.Jobs == nil {
		return map[string]Rate{}
	}
	return s.Jobs
}
