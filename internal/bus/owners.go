package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// OwnersBucket holds which delivery of each running task owns it.
const OwnersBucket = "OSSIMPORT_OWNERS"

// ownerMarkerTTL is how long the marker of a released claim is kept (see
// uploadMarkerTTL).
const ownerMarkerTTL = time.Minute

// ErrNotOwner means a delivery of a task no longer owns it: a newer
// delivery claimed the task (this one passed its ack wait and the task
// went to another worker), or the claim is gone (the task was finished
// by another delivery, or its job cleaned). Its worker must not write
// anything more for the task.
var ErrNotOwner = errors.New("bus: this delivery of the task was superseded")

// Owner is what a task's claim records: the delivery that owns it.
type Owner struct {
	Worker string `json:"worker"`
	// Stream is the task message's stream sequence; Delivery the
	// consumer sequence of this delivery, and Delivered its count.
	Stream    uint64    `json:"stream"`
	Delivery  uint64    `json:"delivery"`
	Delivered uint64    `json:"delivered"`
	At        time.Time `json:"at"`
	// Ack is the delivery's acknowledgement subject: the active master
	// sends a negative acknowledgement there for a worker that was lost
	// (LostClaims, HandBack), so the task goes to another worker at once.
	Ack string `json:"ack,omitempty"`
}

// Claim is a delivery's ownership of its task, a key of OwnersBucket
// written with compare-and-set: the delivery that wrote it owns the task
// for as long as the key keeps the revision it wrote.
type Claim struct {
	b     *Bus
	key   string
	rev   uint64
	Owner Owner
}

// ownerKey is <job>.<task>.
func ownerKey(job, task string) (string, error) {
	if err := checkJob(job); err != nil {
		return "", err
	}
	if !tokenRE.MatchString(task) {
		return "", fmt.Errorf("bus: invalid task ID %q", task)
	}
	return job + "." + task, nil
}

// Claim makes this delivery the owner of its task. The latest delivery
// to claim always takes over (an earlier one is either dead, frozen past
// its ack wait, or about to find out at its next Check); concurrent
// claims are ordered by compare-and-set on the key's revision, so
// exactly one holds the task at any time.
func (t *TaskMsg) Claim(ctx context.Context) (*Claim, error) {
	key, err := ownerKey(t.Job, t.TaskID)
	if err != nil {
		return nil, err
	}
	o := Owner{Worker: t.Worker, Delivered: t.Delivered, At: time.Now().UTC(), Ack: t.msg.Reply()}
	if md, err := t.msg.Metadata(); err == nil {
		o.Stream, o.Delivery = md.Sequence.Stream, md.Sequence.Consumer
	}
	data, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("bus: claim of task %s: %w", t.TaskID, err)
	}
	kv := t.st.owners
	for range 10 { // another round only after losing a race with another claim
		var rev uint64
		e, err := kv.Get(ctx, key)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
			rev, err = kv.Create(ctx, key, data)
		case err == nil:
			rev, err = kv.Update(ctx, key, data, e.Revision())
		}
		if err == nil {
			return &Claim{b: t.b, key: key, rev: rev, Owner: o}, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) && !isWrongSequence(err) {
			return nil, fmt.Errorf("bus: %s claim %q: %w", OwnersBucket, key, err)
		}
	}
	return nil, fmt.Errorf("bus: %s claim %q: too many concurrent claims", OwnersBucket, key)
}

// isWrongSequence reports a compare-and-set that lost to another write.
func isWrongSequence(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant) // R>1
}

// Check returns nil while the claim holds, an error wrapping ErrNotOwner
// when it does not, or the error of asking.
func (c *Claim) Check(ctx context.Context) error {
	st, err := c.b.state()
	if err != nil {
		return err
	}
	e, err := st.owners.Get(ctx, c.key)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return fmt.Errorf("%w: its claim is gone (finished elsewhere, or the job was cleaned)", ErrNotOwner)
	case err != nil:
		return fmt.Errorf("bus: %s get %q: %w", OwnersBucket, c.key, err)
	case e.Revision() != c.rev:
		var o Owner
		_ = json.Unmarshal(e.Value(), &o)
		return fmt.Errorf("%w: delivery %d on worker %s owns it now", ErrNotOwner, o.Delivered, o.Worker)
	}
	return nil
}

// Release removes the claim if it still holds (the task is finished);
// a claim taken over meanwhile is left to its new owner.
func (c *Claim) Release(ctx context.Context) error {
	st, err := c.b.state()
	if err != nil {
		return err
	}
	err = st.owners.Purge(ctx, c.key, jetstream.LastRevision(c.rev), jetstream.PurgeTTL(ownerMarkerTTL))
	if err != nil && !isWrongSequence(err) {
		return fmt.Errorf("bus: %s release %q: %w", OwnersBucket, c.key, err)
	}
	return nil
}

// dropOwners removes the claims of a job's tasks (clean): a worker still
// running one finds at its next write that it lost it.
func (b *Bus) dropOwners(ctx context.Context, st *state, job string) error {
	lister, err := st.owners.ListKeysFiltered(ctx, job+".*")
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("bus: %s keys of job %s: %w", OwnersBucket, job, err)
	}
	var keys []string
	for k := range lister.Keys() {
		keys = append(keys, k)
	}
	_ = lister.Stop()
	for _, k := range keys {
		if err := st.owners.Purge(ctx, k, jetstream.PurgeTTL(ownerMarkerTTL)); err != nil {
			return fmt.Errorf("bus: %s purge %q: %w", OwnersBucket, k, err)
		}
	}
	return nil
}
