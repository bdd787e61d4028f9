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

// Claimed is a running task's claim as LostClaims or ClaimsOf found it.
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
	grace := 3 * st.opts.HeartbeatInterval
	out, err := b.claims(ctx, func(o Owner) bool { return !alive[o.Worker] && time.Since(o.At) >= grace })
	if err != nil {
		return nil, fmt.Errorf("bus: find the tasks of lost workers: %w", err)
	}
	return out, nil
}

// ClaimsOf lists the running tasks whose claims name worker. A worker
// calls it as it starts, before it takes a task: every claim in its name
// is then a previous run's (killed, or restarted within its heartbeats'
// time to live, so it never looked lost), and HandBack hands those tasks
// out again at once instead of after taskAckWait. Claims that record no
// ack subject (taken by an older ossimport) are left out.
func (b *Bus) ClaimsOf(ctx context.Context, worker string) ([]Claimed, error) {
	out, err := b.claims(ctx, func(o Owner) bool { return o.Worker == worker })
	if err != nil {
		return nil, fmt.Errorf("bus: find the tasks of a previous run of worker %s: %w", worker, err)
	}
	return out, nil
}

// claims lists the claims in OwnersBucket that record an ack subject and
// that keep accepts.
func (b *Bus) claims(ctx context.Context, keep func(Owner) bool) ([]Claimed, error) {
	st, err := b.state()
	if err != nil {
		return nil, err
	}
	keys, err := st.owners.Keys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", OwnersBucket, err)
	}
	var out []Claimed
	for _, key := range keys {
		e, err := st.owners.Get(ctx, key)
		if err != nil {
			continue // released meanwhile
		}
		var o Owner
		if json.Unmarshal(e.Value(), &o) != nil || o.Ack == "" || !keep(o) {
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
