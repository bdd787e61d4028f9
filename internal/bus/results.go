package bus

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// PublishResult appends a task's result to its job's journal (see
// [Bus.Append]). Payloads of any size are accepted, as for PublishTask.
// A result is not deduplicated: a task delivered again reports again.
func (b *Bus) PublishResult(ctx context.Context, job, taskID string, data []byte) error {
	return b.Append(ctx, job, KindResult, taskID, "", data)
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
