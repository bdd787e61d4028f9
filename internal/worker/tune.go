package worker

import (
	"context"
	"time"

	"github.com/ossimport/ossimport/internal/config"
)

// How the worker's object concurrency adapts (workerTaskThreadAdaptive):
// it starts at workerTaskThreadNum and may copy up to tuneReach times as
// many objects at once, which pays against a distant destination, where
// each copy spends most of its time waiting on the network. Every
// tuneWindow, while copies queue for slots (the limit, not the work
// offered, sets the pace), it compares the worker's throughput with the
// one before its last move. A step up is kept while it raises the
// throughput by tuneGain; a step that does not pay is undone and the
// limit held, for twice as long after each probe in a row that failed
// (up to tuneHoldMax), so that a worker on a near, saturated server
// spends almost all its time at workerTaskThreadNum. Above
// workerTaskThreadNum it also probes down, alternately with up: fewer
// copies that keep the throughput (within tuneGain) are kept, so a
// limit raised when the destination was far comes back when it is not.
// It never goes below workerTaskThreadNum: there, a fixed worker would
// be as fast, and small steps that each lose less than the noise would
// add up to a loss.
const (
	tuneWindow  = 2 * time.Second
	tuneReach   = 4
	tuneGain    = 1.05
	tuneHold    = 10 // windows
	tuneHoldMax = 80
	// objectWork is what finishing one object counts for in the
	// throughput, in bytes: its requests cost the same whatever its
	// size, so small objects are not measured by their bytes alone.
	objectWork = 64 << 10
)

// climb is the adaptation's state, apart from time and the slots, so
// that its steps can be followed one by one.
type climb struct {
	floor, max int
	limit      int
	// prev is the limit before the move being judged (0: none), base
	// the throughput measured at it.
	prev int
	base float64
	hold int  // windows to wait before the next probe
	down bool // the next probe is down
	// failed counts the probes in a row that were undone: each doubles
	// the next hold.
	failed int
}

// newClimb starts at threads (workerTaskThreadNum) copies at once.
func newClimb(threads int) *climb {
	start := max(threads, 1)
	return &climb{floor: start, max: max(start, min(start*tuneReach, config.MaxWorkerTaskThreads)), limit: start}
}

// next returns the limit for the next window from the throughput of
// the last one and whether copies queued for slots during it.
func (c *climb) next(rate float64, queued bool) int {
	if !queued {
		// The work offered, not the limit, set the pace: the window
		// says nothing of the limit, and a move being judged stays.
		c.prev = 0
		return c.limit
	}
	if c.prev != 0 {
		return c.judge(rate)
	}
	if c.hold > 0 {
		c.hold--
		return c.limit
	}
	if c.down && c.limit > c.floor {
		c.down = false
		c.prev, c.base = c.limit, rate
		c.limit = max(c.floor, c.limit*2/3)
		return c.limit
	}
	c.down = true
	return c.up(rate)
}

// judge keeps or undoes the move made a window ago.
func (c *climb) judge(rate float64) int {
	grew := c.limit > c.prev
	if grew && rate >= c.base*tuneGain {
		c.failed = 0
		return c.up(rate) // keep climbing while it pays
	}
	if !grew && rate*tuneGain >= c.base {
		// Fewer copies kept the throughput: stay there.
		c.prev, c.failed, c.hold = 0, 0, tuneHold
		return c.limit
	}
	c.limit, c.prev = c.prev, 0
	c.hold = min(tuneHold<<c.failed, tuneHoldMax)
	c.failed = min(c.failed+1, 8)
	return c.limit
}

// up moves one step up from the current limit, or holds at the top.
func (c *climb) up(rate float64) int {
	if c.limit >= c.max {
		c.prev, c.hold = 0, tuneHold
		return c.limit
	}
	c.prev, c.base = c.limit, rate
	c.limit = min(c.max, max(c.limit+1, c.limit*3/2))
	return c.limit
}

// tune adapts w.slots until ctx ends.
func (w *Worker) tune(ctx context.Context) {
	c := newClimb(w.opts.Settings.Threads)
	work := func() float64 { return float64(w.read.Load()) + objectWork*float64(w.finished.Load()) }
	lastWork, lastWaited, last := work(), w.slots.Waited(), time.Now()
	t := time.NewTicker(tuneWindow)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now, done, waited := time.Now(), work(), w.slots.Waited()
		rate := (done - lastWork) / now.Sub(last).Seconds()
		limit := c.next(rate, waited > lastWaited)
		if limit != w.slots.Limit() {
			w.log.Debug("files copied at once", "limit", limit, "rate", int64(rate))
			w.slots.SetLimit(limit)
		}
		lastWork, lastWaited, last = done, waited, now
	}
}
