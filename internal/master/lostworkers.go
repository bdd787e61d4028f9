package master

import (
	"context"
	"time"
)

// lostEvery is how often the active master looks for running tasks
// whose worker was lost.
const lostEvery = 5 * time.Second

// handBackLost hands the tasks of lost workers (no heartbeat for three
// intervals) to other workers at once, while this master leads, instead
// of after taskAckWait: a worker killed with its service, a host that
// went down. Each handed-back delivery is logged once.
func (m *Master) handBackLost(ctx context.Context) {
	t := time.NewTicker(lostEvery)
	defer t.Stop()
	logged := map[string]uint64{} // claim key → the delivery logged
	for {
		got, err := m.opts.Bus.HandBackLost(ctx)
		if err != nil && ctx.Err() == nil {
			m.log.Warn("cannot hand back the tasks of lost workers; they go to other workers after taskAckWait", "err", err)
		}
		for _, c := range got {
			key := c.Job + "." + c.Task
			if logged[key] == c.Owner.Delivery {
				continue
			}
			logged[key] = c.Owner.Delivery
			m.log.Info("task of a lost worker handed to another worker", "job", c.Job, "task", c.Task,
				"worker", c.Owner.Worker, "claimed", c.Owner.At.Format(time.RFC3339), "delivery", c.Owner.Delivered)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
