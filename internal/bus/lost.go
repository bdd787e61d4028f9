package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Claimed is a running task's claim as HandBackLost found it.
type Claimed struct {
	Job, Task string
	Owner     Owner
}

// HandBackLost hands back at once the running tasks whose claims name a
// worker that is no longer alive (its key in WorkersBucket expired: no
// heartbeat for three intervals), instead of leaving them until their
// ack wait (taskAckWait, 300 s by default) ends. It sends JetStream a
// negative acknowledgement on the lost delivery's behalf, to the ack
// subject its claim records, so the queue delivers the task again now;
// the next delivery's claim supersedes the lost one, so a worker that
// was only cut off writes nothing more for the task when it comes back.
// A claim younger than the heartbeats' time to live is left alone (its
// worker may not have sent its first heartbeat yet), and so is a delivery
// JetStream no longer holds (acknowledging it again changes nothing).
// It returns the claims handed back. Only the active master calls it.
func (b *Bus) HandBackLost(ctx context.Context) ([]Claimed, error) {
	st, err := b.state()
	if err != nil {
		return nil, err
	}
	alive := map[string]bool{}
	workers, err := b.Workers().Keys(ctx)
	if err != nil {
		return nil, fmt.Errorf("bus: hand back the tasks of lost workers: %w", err)
	}
	for _, w := range workers {
		alive[w] = true
	}
	keys, err := st.owners.Keys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("bus: hand back the tasks of lost workers: list %s: %w", OwnersBucket, err)
	}
	grace := 3 * st.opts.HeartbeatInterval
	var out []Claimed
	for _, key := range keys {
		e, err := st.owners.Get(ctx, key)
		if err != nil {
			continue // released meanwhile
		}
		var o Owner
		if json.Unmarshal(e.Value(), &o) != nil || o.Ack == "" || alive[o.Worker] || time.Since(o.At) < grace {
			continue
		}
		if err := b.nc.Publish(o.Ack, []byte("-NAK")); err != nil {
			return out, fmt.Errorf("bus: hand back task %s of lost worker %s: %w", key, o.Worker, err)
		}
		job, task, _ := strings.Cut(key, ".")
		out = append(out, Claimed{Job: job, Task: task, Owner: o})
	}
	if len(out) > 0 {
		if err := b.nc.FlushWithContext(ctx); err != nil {
			return out, fmt.Errorf("bus: hand back the tasks of lost workers: %w", err)
		}
	}
	return out, nil
}
