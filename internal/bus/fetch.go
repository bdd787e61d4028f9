package bus

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TaskMsg is a task handed to a worker. The worker must end it with Ack,
// Nak or Term, and call InProgress at intervals well below AckWait while
// it runs; otherwise the task is redelivered to another worker.
type TaskMsg struct {
	Job    string
	TaskID string
	// Worker is the name passed to NextTask.
	Worker string
	// Delivered counts deliveries of this task, 1 the first time.
	Delivered uint64

	b    *Bus
	st   *state
	msg  jetstream.Msg
	once sync.Once
	data []byte
	err  error
}

// payloadPatience is how long a task's payload read as not found is
// asked for again.
const payloadPatience = 2 * time.Second

// Data returns the task's payload, fetching and decompressing it if it
// was stored apart (riding out a leader election); the result is
// cached.
func (t *TaskMsg) Data() ([]byte, error) {
	t.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), ridePatience+t.b.timeout)
		defer cancel()
		// Any replica answers a read, and one that has not caught up
		// (after a node loss, on a loaded machine) says not found: a
		// task in hand has its payload unless its job was cleaned, so
		// ask again for a moment before calling it gone.
		notFound := func(err error) bool { return errors.Is(err, ErrNotFound) }
		t.err = Retry{Patience: payloadPatience}.do(ctx, "fetch task payload", notFound, func() (err error) {
			t.data, err = t.b.unpack(ctx, t.st, t.msg.Headers(), t.msg.Data())
			return err
		})
	})
	return t.data, t.err
}

// InProgress tells the server the task is still running, restarting its
// AckWait.
func (t *TaskMsg) InProgress() error {
	if err := t.msg.InProgress(); err != nil {
		return fmt.Errorf("bus: task %s in progress: %w", t.TaskID, err)
	}
	return nil
}

// Ack removes the finished task from the queue, waiting for the server to
// confirm, then deletes its stored payload.
func (t *TaskMsg) Ack() error {
	ctx, cancel := t.b.opContext()
	defer cancel()
	if err := t.msg.DoubleAck(ctx); err != nil {
		return fmt.Errorf("bus: ack task %s: %w", t.TaskID, err)
	}
	return t.b.dropObject(t.st, t.msg.Headers().Get(hdrObject))
}

// Nak hands the task back for redelivery after delay (0: at once). It
// counts as a delivery towards MaxDeliver.
func (t *TaskMsg) Nak(delay time.Duration) error {
	var err error
	if delay > 0 {
		err = t.msg.NakWithDelay(delay)
	} else {
		err = t.msg.Nak()
	}
	if err != nil {
		return fmt.Errorf("bus: nak task %s: %w", t.TaskID, err)
	}
	return nil
}

// Term gives the task up: it is removed from the queue and never
// redelivered. The tracker learns the outcome from the worker's result.
func (t *TaskMsg) Term(reason string) error {
	if err := t.msg.TermWithReason(reason); err != nil {
		return fmt.Errorf("bus: terminate task %s: %w", t.TaskID, err)
	}
	return t.b.dropObject(t.st, t.msg.Headers().Get(hdrObject))
}

// taskSource serves tasks of all jobs round-robin. One NextTask call per
// connection searches at a time (it holds seek); the others queue behind
// it, so an idle worker costs one search per wake-up or poll interval
// whatever its concurrency.
type taskSource struct {
	seek chan struct{} // held by the searching NextTask
	wake chan struct{} // a task was published (capacity 1)

	mu      sync.Mutex
	jobs    []string // round-robin order
	nextJob string   // job to try first
	stale   bool     // jobs must be re-read from the stream
}

// source returns the connection's task source, subscribing to the
// stream's headers-only republication of new tasks.
func (b *Bus) source() (*taskSource, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.src != nil {
		return b.src, nil
	}
	s := &taskSource{seek: make(chan struct{}, 1), wake: make(chan struct{}, 1), stale: true}
	if _, err := b.nc.Subscribe(readyPrefix+">", s.notify); err != nil {
		return nil, fmt.Errorf("bus: subscribe to task notifications: %w", err)
	}
	b.src = s
	return s, nil
}

// notify learns a job from a task notification and wakes the search.
func (s *taskSource) notify(m *nats.Msg) {
	job := strings.TrimPrefix(m.Subject, readyPrefix)
	s.mu.Lock()
	if tokenRE.MatchString(job) && !slices.Contains(s.jobs, job) {
		s.jobs = append(s.jobs, job)
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// NextTask blocks until a task of any job is available, or ctx ends. Jobs
// are served round-robin, so a job queued after a large one is not
// starved. worker names the caller (kept in TaskMsg.Worker).
func (b *Bus) NextTask(ctx context.Context, worker string) (*TaskMsg, error) {
	st, err := b.state()
	if err != nil {
		return nil, err
	}
	if worker == "" {
		return nil, errors.New("bus: NextTask needs a worker name")
	}
	s, err := b.source()
	if err != nil {
		return nil, err
	}
	select {
	case s.seek <- struct{}{}:
		defer func() { <-s.seek }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	timer := time.NewTimer(st.opts.RedeliveryPoll)
	defer timer.Stop()
	for {
		msg, err := s.round(ctx, b, st)
		if err != nil || msg != nil {
			return b.taskMsg(st, msg, worker), err
		}
		timer.Reset(st.opts.RedeliveryPoll)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-s.wake:
		case <-timer.C:
			s.mu.Lock()
			s.stale = true
			s.mu.Unlock()
		}
	}
}

func (b *Bus) taskMsg(st *state, m jetstream.Msg, worker string) *TaskMsg {
	if m == nil {
		return nil
	}
	h := m.Headers()
	t := &TaskMsg{Job: h.Get(hdrJob), TaskID: h.Get(hdrTask), Worker: worker, b: b, st: st, msg: m}
	if md, err := m.Metadata(); err == nil {
		t.Delivered = md.NumDelivered
	}
	return t
}

// round tries each job once, starting after the job served last.
func (s *taskSource) round(ctx context.Context, b *Bus, st *state) (jetstream.Msg, error) {
	if err := s.refresh(ctx, b, st); err != nil {
		return nil, err
	}
	s.mu.Lock()
	jobs := slices.Clone(s.jobs)
	start := max(slices.Index(jobs, s.nextJob), 0)
	s.mu.Unlock()
	for i := range jobs {
		job := jobs[(start+i)%len(jobs)]
		msg, err := s.fetch(ctx, b, st, job)
		if err != nil || msg != nil {
			s.mu.Lock()
			s.nextJob = jobs[(start+i+1)%len(jobs)]
			s.mu.Unlock()
			return msg, err
		}
	}
	return nil, nil
}

// refresh re-reads the jobs having queued or running tasks when the list
// is stale, keeping the round-robin order of known jobs.
func (s *taskSource) refresh(ctx context.Context, b *Bus, st *state) error {
	s.mu.Lock()
	stale := s.stale
	s.mu.Unlock()
	if !stale {
		return nil
	}
	// A poll: bounded briefly, since a request sent while the stream
	// elects a leader gets no answer at all, and the next poll retries.
	info, err := bounded(ctx, pollTimeout, func(ctx context.Context) (*jetstream.StreamInfo, error) {
		return st.tasks.Info(ctx, jetstream.WithSubjectFilter(taskPrefix+">"))
	})
	if err != nil {
		if (!b.nc.IsConnected() && !b.nc.IsClosed()) || Transient(err) {
			return nil // reconnecting or electing: try again at the next poll
		}
		return fmt.Errorf("bus: list jobs with tasks: %w", err)
	}
	found := make(map[string]bool, len(info.State.Subjects))
	for subj := range info.State.Subjects {
		found[strings.TrimPrefix(subj, taskPrefix)] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jobs = slices.DeleteFunc(s.jobs, func(j string) bool { return !found[j] })
	for _, j := range slices.Sorted(maps.Keys(found)) {
		if !slices.Contains(s.jobs, j) {
			s.jobs = append(s.jobs, j)
		}
	}
	s.stale = false
	return nil
}

// fetch takes one available task of job without waiting. Transient
// failures count as "none now"; a vanished consumer drops the job.
func (s *taskSource) fetch(ctx context.Context, b *Bus, st *state, job string) (jetstream.Msg, error) {
	c, err := bounded(ctx, pollTimeout, func(ctx context.Context) (jetstream.Consumer, error) {
		return b.taskConsumer(ctx, st, job, false)
	})
	if err == nil {
		var batch jetstream.MessageBatch
		if batch, err = c.FetchNoWait(1); err == nil {
			for m := range batch.Messages() {
				return m, nil
			}
			err = batch.Error()
		}
	}
	switch {
	case err == nil:
		return nil, nil
	case b.nc.IsClosed():
		return nil, fmt.Errorf("bus: fetch task: %w", nats.ErrConnectionClosed)
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case errors.Is(err, jetstream.ErrConsumerDeleted), errors.Is(err, jetstream.ErrConsumerNotFound),
		errors.Is(err, nats.ErrNoResponders):
		b.forgetConsumer(job)
		s.mu.Lock()
		s.jobs = slices.DeleteFunc(s.jobs, func(j string) bool { return j == job })
		s.stale = true
		s.mu.Unlock()
		return nil, nil
	case isBusy(err) || !b.nc.IsConnected():
		return nil, nil
	}
	return nil, fmt.Errorf("bus: fetch task of job %s: %w", job, err)
}

// isBusy reports pull errors meaning "nothing for you right now".
func isBusy(err error) bool {
	if errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, jetstream.ErrConsumerLeadershipChanged) || errors.Is(err, jetstream.ErrServerShutdown) {
		return true
	}
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "maxackpending") || strings.Contains(msg, "max waiting") ||
		strings.Contains(msg, "exceeded")
}
