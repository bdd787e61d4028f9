package master

import (
	"context"
	"time"

	"github.com/ossimport/ossimport/internal/bus"
)

// lostEvery is how often the active master looks for running tasks
// whose worker was lost.
const lostEvery = 5 * time.Second

// handBackLost hands the tasks of lost workers (no heartbeat for three
// intervals) to other workers at once, while this master leads, instead
// of after taskAckWait: a worker killed with its service, a host that
// went down. A claim is handed back when two passes in a row find its
// worker lost, so a heartbeat late by a moment on a loaded machine does
// not move a task. Each delivery is handed back and logged once.
func (m *Master) handBackLost(ctx context.Context) {
	t := time.NewTicker(lostEvery)
	defer t.Stop()
	seen := map[string]uint64{} // claim key → its lost delivery, from the previous pass
	done := map[string]uint64{} // claim key → the delivery handed back
	for {
		got, err := m.opts.Bus.LostClaims(ctx)
		if err != nil && ctx.Err() == nil {
			m.log.Warn("cannot look for the tasks of lost workers; they go to other workers after taskAckWait", "err", err)
		}
		now := map[string]uint64{}
		for _, c := range got {
			key := c.Job + "." + c.Task
			now[key] = c.Owner.Delivery
			if seen[key] != c.Owner.Delivery || done[key] == c.Owner.Delivery {
				continue
			}
			m.handBack(ctx, c)
			done[key] = c.Owner.Delivery
		}
		seen = now
		for key := range done {
			if _, ok := now[key]; !ok {
				delete(done, key)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// handBack hands one lost worker's task back and logs it.
func (m *Master) handBack(ctx context.Context, c bus.Claimed) {
	if err := m.opts.Bus.HandBack(ctx, c); err != nil {
		if ctx.Err() == nil {
			m.log.Warn("cannot hand back a lost worker's task; it goes to another worker after taskAckWait", "job", c.Job, "task", c.Task, "err", err)
		}
		return
	}
	m.log.Info("task of a lost worker handed to another worker", "job", c.Job, "task", c.Task,
		"worker", c.Owner.Worker, "claimed", c.Owner.At.Format(time.RFC3339), "delivery", c.Owner.Delivered)
}
