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

// Claimed is a running task's claim as LostClaims found it.
type Claimed struct {
	Job, Task string
	Owner     Owner
}

// LostClaims lists the running tasks whose claims name a worker that is
// no longer alive (its key in WorkersBucket expired: no heartbeat for
// three intervals). A claim younger than the heartbeats' time to live is
// left out (its worker may not have sent its first heartbeat yet), and so
// is one that records no ack subject (taken by an older ossimport).
func (b *Bus) LostClaims(ctx context.Context) ([]Claimed, error) {
	st, err := b.state()
	if err != nil {
		return nil, err
	}
	alive := map[string]bool{}
	workers, err := b.Workers().Keys(ctx)
	if err != nil {
		return nil, fmt.Errorf("bus: find the tasks of lost workers: %w", err)
	}
	for _, w := range workers {
		alive[w] = true
	}
	keys, err := st.owners.Keys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("bus: find the tasks of lost workers: list %s: %w", OwnersBucket, err)
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
		job, task, _ := strings.Cut(key, ".")
		out = append(out, Claimed{Job: job, Task: task, Owner: o})
	}
	return out, nil
}

// HandBack hands a lost worker's task (from LostClaims) to another worker
// at once, instead of when its ack wait (taskAckWait, 300 s by default)
// ends: it sends JetStream a negative acknowledgement on the lost
// delivery's behalf, to the ack subject its claim records, so the queue
// delivers the task again now. The next delivery's claim supersedes the
// lost one, so a worker that was only cut off writes nothing more for the
// task when it comes back; a delivery JetStream no longer holds ignores
// the acknowledgement. Only the active master calls it.
func (b *Bus) HandBack(ctx context.Context, c Claimed) error {
	if c.Owner.Ack == "" {
		return fmt.Errorf("bus: task %s of worker %s: its claim records no ack subject", c.Task, c.Owner.Worker)
	}
	if err := b.nc.Publish(c.Owner.Ack, []byte("-NAK")); err != nil {
		return fmt.Errorf("bus: hand back task %s of lost worker %s: %w", c.Task, c.Owner.Worker, err)
	}
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := b.nc.FlushWithContext(fctx); err != nil {
		return fmt.Errorf("bus: hand back task %s of lost worker %s: %w", c.Task, c.Owner.Worker, err)
	}
	return nil
}
