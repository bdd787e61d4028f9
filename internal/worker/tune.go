package worker

import (
	"context"
	"time"
)

// How the worker's object concurrency adapts (workerTaskThreadAdaptive):
// every tuneWindow, while copies queue for slots (the limit, not the
// work offered, sets the pace), it compares the worker's throughput
// with the one before its last move. It starts at tuneStart slots and
// grows by half while each step pays (throughput up by tuneGain); a
// step that does not pay is undone and the limit held for tuneHold
// windows, after which it probes again, alternately one step up and
// one step down: fewer copies at once that keep the throughput (within
// tuneGain) are kept, since they leave the machine and the server less
// loaded. The limit stays between tuneStart and workerTaskThreadNum:
// below a few copies at once, small files would wait behind large ones
// (under a bandwidth cap, one file at a time looks as fast as many).
const (
	tuneWindow = 2 * time.Second
	tuneStart  = 8
	tuneGain   = 1.05
	tuneHold   = 10
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
}

func newClimb(most int) *climb {
	most = max(most, 1)
	start := min(tuneStart, most)
	return &climb{floor: start, max: most, limit: start}
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
		grew := c.limit > c.prev
		paid := rate >= c.base*tuneGain          // a step up
		kept := !grew && rate*tuneGain >= c.base // a step down
		if (grew && paid) || kept {
			c.prev = 0
			if grew {
				return c.up(rate) // keep climbing while it pays
			}
			c.hold = tuneHold
			return c.limit
		}
		c.limit, c.prev, c.hold = c.prev, 0, tuneHold
		return c.limit
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

// up moves one step up from the current limit, or holds at the top.
func (c *climb) up(rate float64) int {
	if c.limit >= c.max {
		c.hold = tuneHold
		return c.limit
	}
	c.prev, c.base = c.limit, rate
	c.limit = min(c.max, max(c.limit+1, c.limit*3/2))
	return c.limit
}

// tune adapts w.slots until ctx ends.
func (w *Worker) tune(ctx context.Context) {
	c := newClimb(w.opts.Settings.Threads) // New set the slots to its start
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
