package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// DeadTask is a task that exceeded MaxDeliver: every delivery was nak'ed
// or timed out (workers crashed or hung). The tracker records it as
// failed and calls Ack.
type DeadTask struct {
	Job        string
	TaskID     string
	Deliveries uint64
	// Seq is the task's sequence number in TaskStream.
	Seq uint64

	b   *Bus
	st  *state
	raw *jetstream.RawStreamMsg
	adv jetstream.Msg
}

// Data returns the dead task's payload, e.g. to requeue it with
// RetryTask.
func (d DeadTask) Data() ([]byte, error) {
	ctx, cancel := d.b.opContext()
	defer cancel()
	return d.b.unpack(ctx, d.st, d.raw.Header, d.raw.Data)
}

// Ack removes the dead task (and its stored payload) from the queue and
// acknowledges the event. An event not acknowledged is delivered again
// after AckWait, or to the next DeadTasks call.
func (d DeadTask) Ack() error {
	ctx, cancel := d.b.opContext()
	defer cancel()
	if err := d.st.tasks.DeleteMsg(ctx, d.Seq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
		return fmt.Errorf("bus: remove dead task %s: %w", d.TaskID, err)
	}
	if err := d.b.dropObject(d.st, d.raw.Header.Get(hdrObject)); err != nil {
		return err
	}
	if err := d.adv.DoubleAck(ctx); err != nil {
		return fmt.Errorf("bus: ack dead task %s: %w", d.TaskID, err)
	}
	return nil
}

// maxDeliverAdvisory is the part of JetStream's
// io.nats.jetstream.advisory.v1.max_deliver event the bus reads.
type maxDeliverAdvisory struct {
	Stream     string `json:"stream"`
	Consumer   string `json:"consumer"`
	StreamSeq  uint64 `json:"stream_seq"`
	Deliveries uint64 `json:"deliveries"`
}

// DeadTasks reports tasks that exceeded MaxDeliver. The server's
// MAX_DELIVERIES advisories are captured in DeadStream, so none is lost
// while the tracker is down. The channel is closed when ctx ends or the
// connection closes.
func (b *Bus) DeadTasks(ctx context.Context) (<-chan DeadTask, error) {
	st, err := b.state()
	if err != nil {
		return nil, err
	}
	cons, err := deadConsumer(ctx, st)
	if err != nil {
		return nil, err
	}
	out := make(chan DeadTask)
	go func() {
		defer close(out)
		for {
			// consume ends without error only when ctx ends. A failure
			// (a leader election, a reconnect, the consumer deleted) is
			// waited out and the consumer set up and read again: dead
			// tasks must not go unhandled for the rest of a master's term.
			err := consume(ctx, cons, func(m jetstream.Msg) { b.deadTask(ctx, st, m, out) })
			if err == nil || b.nc.IsClosed() {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			if c, err := deadConsumer(ctx, st); err == nil {
				cons = c
			}
		}
	}()
	return out, nil
}

// deadConsumer creates or updates the tracker's durable consumer of the
// dead-task stream.
func deadConsumer(ctx context.Context, st *state) (jetstream.Consumer, error) {
	cons, err := st.dead.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       trackerName,
		Description:   "ossimport tracker reading dead tasks",
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       st.opts.AckWait,
		MaxDeliver:    -1,
		MaxAckPending: 64,
	})
	if err != nil {
		return nil, fmt.Errorf("bus: dead tasks consumer: %w", err)
	}
	return cons, nil
}

// deadTask turns one advisory into a DeadTask on out.
func (b *Bus) deadTask(ctx context.Context, st *state, m jetstream.Msg, out chan<- DeadTask) {
	var adv maxDeliverAdvisory
	if err := json.Unmarshal(m.Data(), &adv); err != nil || adv.StreamSeq == 0 {
		_ = m.TermWithReason("not a max_deliver advisory")
		return
	}
	raw, err := st.tasks.GetMsg(ctx, adv.StreamSeq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		_ = m.Ack() // acknowledged late, purged, or reported before
		return
	}
	if err != nil {
		_ = m.NakWithDelay(time.Second)
		return
	}
	d := DeadTask{
		Job: raw.Header.Get(hdrJob), TaskID: raw.Header.Get(hdrTask),
		Deliveries: adv.Deliveries, Seq: adv.StreamSeq,
		b: b, st: st, raw: raw, adv: m,
	}
	select {
	case out <- d:
	case <-ctx.Done():
		_ = m.Nak()
	}
}
