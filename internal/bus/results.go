package bus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ResultMsg is a task result delivered to the tracker.
type ResultMsg struct {
	Job    string
	TaskID string
	Data   []byte
	// Delivered counts deliveries of this result, 1 the first time.
	Delivered uint64
	// Time is when the result was stored.
	Time time.Time
}

// PublishResult stores a task's result for the tracker. Payloads of any
// size are accepted, as for PublishTask.
func (b *Bus) PublishResult(ctx context.Context, job, taskID string, data []byte) error {
	return b.ride(ctx, func(ctx context.Context) error { return b.publishResult(ctx, job, taskID, data) })
}

func (b *Bus) publishResult(ctx context.Context, job, taskID string, data []byte) error {
	st, err := b.state()
	if err != nil {
		return err
	}
	if err := checkJob(job); err != nil {
		return err
	}
	msg := nats.NewMsg(resultSubject(job))
	msg.Header.Set(hdrJob, job)
	msg.Header.Set(hdrTask, taskID)
	obj, err := b.pack(ctx, st, msg, objectName("result", job, taskID), data)
	if err != nil {
		return err
	}
	if _, err := b.js.PublishMsg(ctx, msg); err != nil {
		err = fmt.Errorf("bus: publish result of task %s: %w", taskID, err)
		return errors.Join(err, b.dropObject(st, obj))
	}
	return nil
}

// Results delivers task results to handle, one at a time in publish
// order, until ctx ends (it then returns nil). A result is acknowledged
// when handle returns nil; on error it is redelivered after a growing
// delay (250ms doubling to 30s), behind the results that follow it. Delivery is at-least-once (a crash between handling and the ack
// repeats a result), so handle must be idempotent by task ID.
func (b *Bus) Results(ctx context.Context, handle func(ResultMsg) error) error {
	st, err := b.state()
	if err != nil {
		return err
	}
	cons, err := st.results.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       trackerName,
		Description:   "ossimport tracker reading task results",
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       st.opts.AckWait,
		MaxDeliver:    -1,
		MaxAckPending: 256,
	})
	if err != nil {
		return fmt.Errorf("bus: results consumer: %w", err)
	}
	return consume(ctx, cons, func(m jetstream.Msg) { b.handleResult(ctx, st, m, handle) })
}

func (b *Bus) handleResult(ctx context.Context, st *state, m jetstream.Msg, handle func(ResultMsg) error) {
	h := m.Headers()
	r := ResultMsg{Job: h.Get(hdrJob), TaskID: h.Get(hdrTask)}
	if md, err := m.Metadata(); err == nil {
		r.Delivered, r.Time = md.NumDelivered, md.Timestamp
	}
	var err error
	r.Data, err = b.unpack(ctx, st, h, m.Data())
	switch {
	case errors.Is(err, ErrNotFound):
		// The payload went with its job (clean) or with an earlier,
		// handled delivery whose ack was lost.
		_ = m.TermWithReason(err.Error())
		return
	case err == nil:
		err = handle(r)
	}
	// Acks and naks are best effort: a lost one means a redelivery after
	// AckWait, which the idempotent handler absorbs.
	if err != nil {
		_ = m.NakWithDelay(retryDelay(r.Delivered))
		return
	}
	if m.Ack() == nil {
		_ = b.dropObject(st, h.Get(hdrObject)) // PurgeJob collects leftovers
	}
}

// retryDelay grows from 250ms to 30s with the delivery count.
func retryDelay(delivered uint64) time.Duration {
	d := 250 * time.Millisecond << min(max(delivered, 1)-1, 7)
	return min(d, 30*time.Second)
}

// consume runs handle on each message of cons until ctx ends. Messages
// buffered but not handled are nak'ed so they are redelivered at once.
func consume(ctx context.Context, cons jetstream.Consumer, handle func(jetstream.Msg)) error {
	it, err := cons.Messages(jetstream.PullMaxMessages(8), jetstream.WithMessagesErrOnMissingHeartbeat(false))
	if err != nil {
		return fmt.Errorf("bus: consume %s: %w", cons.CachedInfo().Name, err)
	}
	for {
		m, err := it.Next(jetstream.NextContext(ctx))
		if err == nil {
			handle(m)
			continue
		}
		it.Drain()
		for {
			m, err := it.Next(jetstream.NextMaxWait(time.Second))
			if err != nil {
				break
			}
			_ = m.Nak() // best effort; else redelivered after AckWait
		}
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("bus: consume %s: %w", cons.CachedInfo().Name, err)
	}
}

// Progress is a live progress report of a running task.
type Progress struct {
	Job, TaskID, Worker string
	Data                []byte
}

// PublishProgress sends a live progress report (bytes and files done).
// Reports are not stored: only current subscribers see them.
func (b *Bus) PublishProgress(job, taskID, worker string, data []byte) error {
	if err := checkJob(job); err != nil {
		return err
	}
	msg := nats.NewMsg(progressPrefix + job)
	msg.Header.Set(hdrTask, taskID)
	msg.Header.Set(hdrWorker, worker)
	msg.Data = data
	if err := b.nc.PublishMsg(msg); err != nil {
		return fmt.Errorf("bus: publish progress of task %s: %w", taskID, err)
	}
	return nil
}

// SubscribeProgress calls handle with every progress report until ctx
// ends. It returns once the subscription is active; handle runs on one
// goroutine.
func (b *Bus) SubscribeProgress(ctx context.Context, handle func(Progress)) error {
	sub, err := b.nc.Subscribe(progressPrefix+"*", func(m *nats.Msg) {
		handle(Progress{
			Job:    strings.TrimPrefix(m.Subject, progressPrefix),
			TaskID: m.Header.Get(hdrTask), Worker: m.Header.Get(hdrWorker), Data: m.Data,
		})
	})
	if err != nil {
		return fmt.Errorf("bus: subscribe to progress: %w", err)
	}
	context.AfterFunc(ctx, func() { _ = sub.Unsubscribe() })
	if err := b.nc.FlushTimeout(b.timeout); err != nil {
		return fmt.Errorf("bus: subscribe to progress: %w", err)
	}
	return nil
}
