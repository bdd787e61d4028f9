package dashboard

import (
	"sync"
	"time"
)

// Sample is the throughput of every job together over one sample period.
type Sample struct {
	Time             time.Time `json:"time"`
	BytesPerSecond   float64   `json:"bytesPerSecond"`
	ObjectsPerSecond float64   `json:"objectsPerSecond"`
	// BytesDone and ObjectsDone are the totals at Time.
	BytesDone   int64 `json:"bytesDone"`
	ObjectsDone int64 `json:"objectsDone"`
}

// totals are one job's done counters.
type totals struct{ bytes, objects int64 }

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
// requeued) counts as none.
func (hs *history) add(now time.Time, jobs map[string]totals) {
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
	s := Sample{Time: now}
	var dBytes, dObjects int64
	for name, t := range jobs {
		s.BytesDone += t.bytes
		s.ObjectsDone += t.objects
		if p, ok := prev[name]; ok {
			dBytes += max(t.bytes-p.bytes, 0)
			dObjects += max(t.objects-p.objects, 0)
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

// Sample reads the jobs' totals now and adds a throughput sample; Run
// calls it every SampleEvery.
func (h *Handler) Sample() {
	jobs := map[string]totals{}
	for _, v := range h.statuses(true) {
		if v.Error == "" {
			jobs[v.Name] = totals{bytes: v.Bytes.Done, objects: v.Objects.Done}
		}
	}
	h.hist.add(h.opts.Now(), jobs)
}

// Samples returns the throughput history, oldest first.
func (h *Handler) Samples() []Sample { return h.hist.all() }
