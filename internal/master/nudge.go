package master

import (
	"context"
	"sync/atomic"
	"time"
)

// nudge wakes one of the master's polling loops when there is news, so
// that its Poll is only the fallback: watchJobs when the jobs bucket
// changes (a job submitted), watchEnds when a result is filed (the one
// that may end its job). Without it a service noticed a job up to a
// Poll (1s) after its submission and logged its end up to a Poll after
// the last result.
type nudge struct {
	c       chan struct{}
	urgent  atomic.Bool
	minLook time.Duration
}

func newNudge() *nudge { return &nudge{c: make(chan struct{}, 1), minLook: minLook} }

// poke wakes the loop, or leaves the wake-up already pending.
func (n *nudge) poke() {
	select {
	case n.c <- struct{}{}:
	default:
	}
}

// pokeNow wakes the loop without minLook's wait: for news that comes
// once per job, such as its last task filed, its scan's end or its
// abort, which would otherwise wait up to minLook after the look before.
func (n *nudge) pokeNow() {
	n.urgent.Store(true)
	n.poke()
}

// minLook is the least time between two looks of a loop woken by pokes
// (results filed a thousand times a second would otherwise make
// watchEnds read every job's status as often).
const minLook = 50 * time.Millisecond

// wait returns when tick fires or the nudge is poked, but not sooner than
// minLook after last unless poked with pokeNow; false when ctx ended.
func (n *nudge) wait(ctx context.Context, tick <-chan time.Time, last time.Time) bool {
	select {
	case <-ctx.Done():
		return false
	case <-tick:
		return true
	case <-n.c:
	}
	d := n.minLook - time.Since(last)
	if n.urgent.Swap(false) || d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		case <-n.c:
			if n.urgent.Swap(false) {
				return true
			}
		}
	}
}

// watchSubmits pokes jobsNudge on every change of the jobs bucket. A
// watch that cannot start leaves watchJobs to its Poll.
func (m *Master) watchSubmits(ctx context.Context) error {
	changes, err := m.opts.Bus.Jobs().Watch(ctx, ">")
	if err != nil {
		m.log.Debug("cannot watch the jobs bucket; submitted jobs are looked for every poll", "err", err)
		return nil
	}
	for range changes {
		m.jobsNudge.poke()
	}
	return nil
}
