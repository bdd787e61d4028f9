package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// PublishTask queues a task of job for the workers. The message's
// Nats-Msg-Id is taskID, so a task published again within
// SetupOptions.Duplicates (re-emitted after a master crash, before the
// checkpoint covering it was saved) is stored once. Payloads of any size
// are accepted (see the package doc).
func (b *Bus) PublishTask(ctx context.Context, job, taskID string, data []byte) error {
	return b.ride(ctx, func(ctx context.Context) error { return b.publishTask(ctx, job, taskID, taskID, data) })
}

// RetryTask queues a failed task again (the retry command). attempt
// numbers the retries of that task (1, 2, ...) and is part of the
// deduplication ID: a retry is not swallowed as a duplicate of the first
// run, while the same retry sent twice is stored once.
func (b *Bus) RetryTask(ctx context.Context, job, taskID string, attempt int, data []byte) error {
	return b.ride(ctx, func(ctx context.Context) error {
		return b.publishTask(ctx, job, taskID, taskID+"#retry"+strconv.Itoa(attempt), data)
	})
}

func (b *Bus) publishTask(ctx context.Context, job, taskID, msgID string, data []byte) error {
	st, err := b.state()
	if err != nil {
		return err
	}
	if err := checkJob(job); err != nil {
		return err
	}
	if taskID == "" {
		return errors.New("bus: empty task ID")
	}
	if _, err := b.taskConsumer(ctx, st, job, true); err != nil {
		return err
	}
	msg := nats.NewMsg(taskSubject(job))
	msg.Header.Set(hdrJob, job)
	msg.Header.Set(hdrTask, taskID)
	obj, err := b.pack(ctx, st, msg, objectName("task", job, taskID), data)
	if err != nil {
		return err
	}
	ack, err := b.js.PublishMsg(ctx, msg, jetstream.WithMsgID(msgID))
	if err != nil {
		err = fmt.Errorf("bus: publish task %s of job %s: %w", taskID, job, err)
		return errors.Join(err, b.dropObject(st, obj))
	}
	if ack.Duplicate {
		return b.dropObject(st, obj)
	}
	return nil
}

func taskConsumerConfig(o SetupOptions, job string) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       taskConsumer(job),
		Description:   "ossimport workers pulling tasks of job " + job,
		FilterSubject: taskSubject(job),
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       o.AckWait,
		MaxDeliver:    o.MaxDeliver,
		MaxAckPending: o.MaxAckPending,
	}
}

// taskConsumer returns the job's durable pull consumer, creating it if
// needed. The publisher (update) also brings its configuration up to
// date; workers only create a missing one.
func (b *Bus) taskConsumer(ctx context.Context, st *state, job string, update bool) (jetstream.Consumer, error) {
	b.mu.Lock()
	c, ok := b.cons[job]
	b.mu.Unlock()
	if ok {
		return c, nil
	}
	cfg := taskConsumerConfig(st.opts, job)
	var err error
	if update {
		c, err = st.tasks.CreateOrUpdateConsumer(ctx, cfg)
	} else if c, err = st.tasks.Consumer(ctx, cfg.Durable); errors.Is(err, jetstream.ErrConsumerNotFound) {
		c, err = st.tasks.CreateOrUpdateConsumer(ctx, cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("bus: task consumer of job %s: %w", job, err)
	}
	b.mu.Lock()
	b.cons[job] = c
	b.mu.Unlock()
	return c, nil
}

func (b *Bus) forgetConsumer(job string) {
	b.mu.Lock()
	delete(b.cons, job)
	b.mu.Unlock()
}

// Pending is the number of the job's tasks not yet handed to any worker.
// Tasks being run, or waiting to be redelivered, are not counted. The
// count is the consumer's, which the server brings up to date just after
// it answers a publish, so it may trail a publish by a moment.
func (b *Bus) Pending(ctx context.Context, job string) (uint64, error) {
	st, err := b.state()
	if err != nil {
		return 0, err
	}
	if err := checkJob(job); err != nil {
		return 0, err
	}
	c, err := st.tasks.Consumer(ctx, taskConsumer(job))
	if err == nil {
		return c.CachedInfo().NumPending, nil
	}
	if !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return 0, fmt.Errorf("bus: pending tasks of job %s: %w", job, err)
	}
	// No consumer yet: every stored message is undelivered.
	info, err := st.tasks.Info(ctx, jetstream.WithSubjectFilter(taskSubject(job)))
	if err != nil {
		return 0, fmt.Errorf("bus: pending tasks of job %s: %w", job, err)
	}
	return info.State.Subjects[taskSubject(job)], nil
}

// PurgeQueue removes a job's queued tasks, its task consumer and the
// tasks' payload objects (an aborted job), keeping its journal.
func (b *Bus) PurgeQueue(ctx context.Context, job string) error {
	st, err := b.state()
	if err != nil {
		return err
	}
	if err := checkJob(job); err != nil {
		return err
	}
	b.forgetConsumer(job)
	err = st.tasks.DeleteConsumer(ctx, taskConsumer(job))
	if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return fmt.Errorf("bus: delete task consumer of job %s: %w", job, err)
	}
	if err := st.tasks.Purge(ctx, jetstream.WithPurgeSubject(taskSubject(job))); err != nil {
		return fmt.Errorf("bus: purge tasks of job %s: %w", job, err)
	}
	if err := b.dropOwners(ctx, st, job); err != nil { // running workers stop writing
		return err
	}
	return b.purgeObjects(ctx, st, "task/"+job+"/")
}

// PurgeJob removes a job's queued tasks, its consumer, its journal and
// their payload objects (the clean command). Job and checkpoint keys are
// left to the caller (Jobs().Delete, Checkpoints().Delete). The
// deduplication windows still remember the purged task IDs: a
// resubmitted job must get new ones (the planner stamps them with the
// scan's start time).
func (b *Bus) PurgeJob(ctx context.Context, job string) error {
	if err := b.PurgeQueue(ctx, job); err != nil {
		return err
	}
	st, err := b.state()
	if err != nil {
		return err
	}
	if err := st.results.Purge(ctx, jetstream.WithPurgeSubject(resultSubject(job))); err != nil {
		return fmt.Errorf("bus: purge the journal of job %s: %w", job, err)
	}
	return b.purgeObjects(ctx, st, "result/"+job+"/")
}

// purgeObjects deletes the payload objects whose names start with prefix.
func (b *Bus) purgeObjects(ctx context.Context, st *state, prefix string) error {
	infos, err := st.data.List(ctx)
	if errors.Is(err, jetstream.ErrNoObjectsFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("bus: list payload objects: %w", err)
	}
	for _, info := range infos {
		if !strings.HasPrefix(info.Name, prefix) {
			continue
		}
		if err := st.data.Delete(ctx, info.Name); err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
			return fmt.Errorf("bus: delete payload object %s: %w", info.Name, err)
		}
	}
	return nil
}

// Redeliver hands every task of job that was delivered and not yet
// acknowledged back to the queue at once, by recreating the job's
// consumer: the work queue keeps unacknowledged tasks, and a new consumer
// delivers all of them again (with delivery counts starting over). Only
// a master that knows no worker holds them may call it: a service alone
// on its embedded server, started after its predecessor was killed, whose
// tasks would otherwise wait for AckWait.
func (b *Bus) Redeliver(ctx context.Context, job string) error {
	st, err := b.state()
	if err != nil {
		return err
	}
	if err := checkJob(job); err != nil {
		return err
	}
	c, err := st.tasks.Consumer(ctx, taskConsumer(job))
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("bus: task consumer of job %s: %w", job, err)
	}
	if c.CachedInfo().NumAckPending == 0 {
		return nil
	}
	b.forgetConsumer(job)
	if err := st.tasks.DeleteConsumer(ctx, taskConsumer(job)); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return fmt.Errorf("bus: delete task consumer of job %s: %w", job, err)
	}
	_, err = b.taskConsumer(ctx, st, job, true)
	return err
}
