// Package worker is the worker role: it pulls tasks from the bus, copies
// their objects with the engine's transfer (workerTaskThreadNum objects at
// once across all its tasks, under one throughput cap for the process),
// keeps each task alive while it runs, publishes its progress every
// workerProgressInterval and a heartbeat every workerHeartbeatInterval,
// and reports results. It takes a task only when the tasks it holds
// leave a slot free (admit.go), publishes a running task's successes in
// batches of ResultBatch (stream.go), and hands out its throughput cap in
// small quanta so small files keep flowing beside large ones (fair.go). A worker stopped gracefully reports the objects it
// finished and hands its running tasks back at once; a worker that dies
// has them redelivered after the ack deadline.
package worker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/job"
	"github.com/ossimport/ossimport/internal/metrics"
	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/version"
)

// Options configure a worker.
type Options struct {
	// Name identifies the worker in the workdir view (its host address,
	// or "localhost" in standalone mode).
	Name string
	Bus  *bus.Bus
	// Settings are the worker's sys.properties settings (SettingsFrom).
	Settings Settings
	Logger   *slog.Logger
	// KeepAlive is how often a running task's ack deadline is extended;
	// it must be well below the queue's ack wait (Settings.AckWait/3 is
	// used when zero).
	KeepAlive time.Duration
	// Metrics, when set, counts the worker's results, objects in flight,
	// running tasks and copy rate (labelled with its name); nil records
	// nothing.
	Metrics *metrics.Metrics
	// Resolve builds a submitted job's spec (job.FromConfig when nil;
	// tests give their own stores this way).
	Resolve job.Resolver
}

// Validate checks the options and fills in defaults.
func (o *Options) Validate() error {
	if o.Name == "" {
		return errors.New("worker: no name")
	}
	if o.Bus == nil {
		return errors.New("worker: bus is required")
	}
	if err := o.Settings.Validate(); err != nil {
		return err
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Resolve == nil {
		o.Resolve = job.FromConfig
	}
	if o.KeepAlive <= 0 {
		o.KeepAlive = max(o.Settings.AckWait/3, time.Second)
	}
	return nil
}

// Worker runs tasks.
type Worker struct {
	opts  Options
	log   *slog.Logger
	slots *transfer.Slots
	// limits cap the bytes and requests of every job and task together
	// (workerMaxThroughput, its schedule, workerMaxRequestRate).
	limits *job.Limits
	// bandwidth is limits.Bytes handed out fairly (fair.go); nil uncapped.
	bandwidth transfer.Limiter

	mu      sync.Mutex
	engines map[string]*engine // by job name

	running atomic.Int32
	read    atomic.Int64 // bytes read from sources
	// finished counts the objects with a result, for tune.
	finished atomic.Int64
	// admit holds the next task back while the held ones fill the slots.
	admit *admission
}

// engine is one job's stores and copier on this worker.
type engine struct {
	spec   *job.Spec
	copier *transfer.Copier
	// job is the submitted job the engine was built from: a job cleaned
	// and submitted again under the same name gets a new engine.
	job protocol.Job
}

// New returns a worker.
func New(opts Options) (*Worker, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	set := opts.Settings
	slots := transfer.NewSlots(set.Threads) // tune's starting point too
	w := &Worker{opts: opts, log: opts.Logger, slots: slots,
		limits: job.LimitsOf(set.BytesPerSecond, set.Schedule, set.RequestsPerSecond), engines: map[string]*engine{}, admit: newAdmission(slots.Limit)}
	if w.limits.Bytes != nil {
		w.bandwidth = fair(w.limits.Bytes)
	}
	return w, nil
}

// Run pulls and runs tasks until ctx ends, then hands running tasks back
// and returns.
func (w *Worker) Run(ctx context.Context) error {
	w.handBackPrevious(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	every := w.heartbeatEvery(ctx)
	wg.Go(func() { w.heartbeats(ctx, every) })
	wg.Go(func() { w.limits.Run(ctx) })
	// Tasks held at once: as many as the objects copied at once can
	// reach, so that tasks of one object each can fill every slot.
	most := max(w.opts.Settings.Threads, 1)
	if w.opts.Settings.Adaptive {
		most = newClimb(most).max
		wg.Go(func() { w.tune(ctx) })
	}
	tasks := make(chan struct{}, most)
	for {
		select {
		case tasks <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		if w.admit.wait(ctx) != nil {
			return nil
		}
		msg, err := w.opts.Bus.NextTask(ctx, w.opts.Name)
		if err != nil {
			<-tasks
			if ctx.Err() != nil {
				return nil
			}
			w.log.Warn("cannot fetch a task", "err", err)
			_ = transfer.Sleep(ctx, time.Second)
			continue
		}
		started := make(chan struct{})
		wg.Go(func() {
			defer func() { <-tasks }()
			w.run(ctx, msg, sync.OnceFunc(func() { close(started) }))
		})
		select { // its objects are counted before the next task is considered
		case <-started:
		case <-ctx.Done():
			return nil
		}
	}
}

// handBackPrevious hands out again, before this worker takes a task,
// every task a previous run of it still holds a claim on: a run killed
// and restarted within its heartbeats' time to live never looks lost to
// the master, and its tasks would otherwise wait for taskAckWait. Only
// one worker of a name runs at a time (the worker lock), so no claim in
// its name can be another live process's.
func (w *Worker) handBackPrevious(ctx context.Context) {
	claims, err := w.opts.Bus.ClaimsOf(ctx, w.opts.Name)
	if err != nil {
		w.log.Warn("cannot look for tasks a previous run of this worker left; they run again after taskAckWait", "err", err)
		return
	}
	for _, c := range claims {
		if err := w.opts.Bus.HandBack(ctx, c); err != nil {
			w.log.Warn("cannot hand out a task a previous run of this worker left; it runs again after taskAckWait", "job", c.Job, "task", c.Task, "err", err)
			continue
		}
		w.log.Info("task a previous run of this worker left handed out again", "job", c.Job, "task", c.Task,
			"claimed", c.Owner.At.Format(time.RFC3339), "delivery", c.Owner.Delivered)
	}
}

// run runs one task to its end and reports it, or hands it back. It
// calls started once the task's objects are counted by w.admit (or it
// ends early).
func (w *Worker) run(ctx context.Context, msg *bus.TaskMsg, started func()) {
	w.running.Add(1)
	defer w.running.Add(-1)
	defer started()
	log := w.log.With("job", msg.Job, "task", msg.TaskID, "delivery", msg.Delivered)
	fence, err := w.claimTask(ctx, msg, log)
	if err != nil {
		log.Warn("cannot claim the task; it is handed back", "err", err)
		_ = msg.Nak(time.Second)
		return
	}
	defer fence.release()
	task, eng, err := w.prepare(ctx, msg)
	if errors.Is(err, protocol.ErrNewerVersion) {
		w.refuse(msg, err, log)
		return
	}
	held := w.admit.hold(len(task.Objects))
	defer held.release()
	started()
	if err != nil {
		log.Error("cannot run task", "err", err)
		w.fail(ctx, msg, task, err)
		return
	}
	copier, uploads := w.trackUploads(ctx, msg, &task, eng.copier, eng.spec.Transfer.MultipartThreshold, log)
	log.Info("task started", "objects", len(task.Objects))
	out := &results{res: protocol.TaskResult{Job: msg.Job, TaskID: msg.TaskID, Worker: w.opts.Name, Attempt: int(msg.Delivered), Started: time.Now()}}
	res := &out.res
	done := map[string]bool{}
	mx := w.opts.Metrics
	mx.WorkerInFlight(w.opts.Name, len(task.Objects))
	prog := newTaskProgress(task)
	add := func(r transfer.Result) {
		prog.finish(r)
		w.finished.Add(1)
		out.add(protocol.FromResult(r, time.Now()), r.Err)
		res.Counters.Add(r)
		done[r.Object.Key] = true
		held.done()
		mx.ObserveWorker(w.opts.Name, msg.Job, r)
		mx.WorkerInFlight(w.opts.Name, -1)
	}
	live, stop := context.WithCancel(ctx)
	var bg sync.WaitGroup
	defer bg.Wait()
	defer stop()
	bg.Go(func() { w.keepAlive(live, msg) })
	bg.Go(func() { w.reportProgress(live, msg, prog) })
	// workerAbortWhenUncatchedException=true: the first unclassified
	// failure ends the task (abort), its other objects fail.
	taskCtx, abort := context.WithCancelCause(ctx)
	defer abort(nil)
	copier = copier.With(func(o *transfer.Options) { o.OnObjectBytes, o.OnRetry, o.Fence = prog.read, logRetry(log), fence.check })
	copier.RunAll(taskCtx, w.slots, task.Objects, func(r transfer.Result) {
		if transfer.Fenced(r) {
			uploads.fenced(r, copier)
			abort(r.Err) // the task is another delivery's now
			return
		}
		// Only copies end uploads: an object failed below without being
		// tried keeps the upload it may have on record.
		uploads.ended(r)
		add(r)
		if err := out.flush(taskCtx, w); err != nil && taskCtx.Err() == nil {
			log.Warn("cannot publish finished objects yet; the task's result carries them", "err", err)
		}
		if eng.spec.AbortOnUnknownError && transfer.Unclassified(r) {
			abort(aborted(r.Object.Key))
		}
	})
	stop()
	bg.Wait() // no progress after the result
	if fence.isLost(ctx) {
		// Another delivery runs the task: its result is the one that
		// counts, and the queue's message is its own to ack or nak.
		mx.WorkerInFlight(w.opts.Name, out.n-len(task.Objects))
		log.Warn("task given up: another delivery owns it now", "finished", out.n)
		return
	}
	if ctx.Err() == nil {
		if cause := context.Cause(taskCtx); cause != nil {
			for _, o := range unreported(task.Objects, done) {
				add(transfer.Result{Object: o, Code: transfer.UploadFailed, Detail: cause.Error(), Err: cause})
			}
		}
	}
	mx.WorkerInFlight(w.opts.Name, out.n-len(task.Objects)) // objects never started
	if ctx.Err() != nil {
		// Stopping: hand the task back so another worker takes it now.
		w.handBack(msg, *res, log)
		return
	}
	res.Finished = time.Now()
	res.Abort = out.abortReason()
	w.report(ctx, msg, *res)
	log.Info("task finished", "copied", res.Counters.Copied, "skipped", res.Counters.Skipped, "failed", res.Counters.Failed)
}

// prepare decodes the task and finds its job's engine. A task delivered
// again (its worker died) skips objects already at the destination.
func (w *Worker) prepare(ctx context.Context, msg *bus.TaskMsg) (plan.Task, *engine, error) {
	data, err := msg.Data()
	if err != nil {
		return plan.Task{}, nil, err
	}
	task, err := protocol.DecodeTask(data)
	if err != nil {
		return task, nil, fmt.Errorf("task %s: %w", msg.TaskID, err)
	}
	eng, err := w.engine(ctx, msg.Job)
	if err != nil {
		return task, nil, err
	}
	if msg.Delivered > 1 {
		redo := *eng
		redo.copier = eng.copier.With(func(o *transfer.Options) { o.SkipExisting = true })
		eng = &redo
	}
	return task, eng, nil
}

// engine opens the stores of a job from its submitted config, once per
// submission: the job is read for every task, so a job cleaned and
// submitted again under its name is not run with the old stores.
func (w *Worker) engine(ctx context.Context, name string) (*engine, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	data, err := w.opts.Bus.Jobs().Get(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", name, err)
	}
	pj, err := protocol.DecodeJob(data)
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", name, err)
	}
	if eng, ok := w.engines[name]; ok && eng.job.Submitted.Equal(pj.Submitted) && bytes.Equal(eng.job.Config, pj.Config) {
		return eng, nil
	}
	spec, err := w.opts.Resolve(pj.File, pj.Config, w.opts.Settings.ResolveWith)
	if err != nil {
		return nil, err
	}
	src, dst, err := job.Open(ctx, spec)
	if err != nil {
		return nil, err
	}
	topts := spec.Transfer
	topts.OnBytes = func(n int64) { w.read.Add(n) }
	w.limits.Apply(&topts) // one cap for the whole worker, not one per job
	if w.bandwidth != nil {
		topts.Bandwidth = w.bandwidth
	}
	copier, err := transfer.New(dst, src, topts)
	if err != nil {
		return nil, err
	}
	eng := &engine{spec: spec, copier: copier, job: pj}
	w.engines[name] = eng
	return eng, nil
}

// fail reports a task that could not run at all: every object failed
// with the reason, so the tracker files the task and the job can abort.
func (w *Worker) fail(ctx context.Context, msg *bus.TaskMsg, task plan.Task, cause error) {
	res := protocol.TaskResult{Job: msg.Job, TaskID: msg.TaskID, Worker: w.opts.Name, Attempt: int(msg.Delivered), Started: time.Now(), Finished: time.Now()}
	var errs []error
	for _, o := range task.Objects {
		r := transfer.Result{Object: o, Code: transfer.UploadFailed, Detail: cause.Error(), Err: cause}
		res.Objects = append(res.Objects, protocol.FromResult(r, res.Finished))
		res.Counters.Add(r)
		errs = append(errs, cause)
		w.opts.Metrics.ObserveWorker(w.opts.Name, msg.Job, r)
	}
	res.Abort = abortReason(res.Objects, errs)
	w.report(ctx, msg, res)
}

// report publishes the result, then acks the task: a crash in between
// redelivers the task, and the tracker ignores the second result of a
// task that succeeded.
func (w *Worker) report(ctx context.Context, msg *bus.TaskMsg, res protocol.TaskResult) {
	data, err := protocol.EncodeResult(res)
	if err == nil {
		err = w.opts.Bus.PublishResult(ctx, msg.Job, msg.TaskID, data)
	}
	if err != nil {
		w.log.Error("cannot report the task; it will run again", "job", msg.Job, "task", msg.TaskID, "err", err)
		_ = msg.Nak(time.Second)
		return
	}
	if err := msg.Ack(); err != nil {
		w.log.Warn("cannot ack the task", "job", msg.Job, "task", msg.TaskID, "err", err)
	}
}

// heartbeatEvery is how often the worker sends its heartbeat:
// workerHeartbeatInterval, or a third of the time a heartbeat lasts on
// the bus when that is shorter (the master's sys.properties set a
// shorter interval than this worker's). A worker beating less often than
// its heartbeats last would look lost between beats, and the master
// would hand its running tasks to other workers.
func (w *Worker) heartbeatEvery(ctx context.Context) time.Duration {
	every := w.opts.Settings.HeartbeatInterval
	ctx, cancel := context.WithTimeout(ctx, uploadOpTimeout)
	defer cancel()
	ttl, err := w.opts.Bus.HeartbeatTTL(ctx)
	if err != nil {
		w.log.Warn("cannot read how long heartbeats last on the bus; sending them every workerHeartbeatInterval", "interval", every, "err", err)
		return every
	}
	if ttl > 0 && ttl/3 < every {
		w.log.Warn("workerHeartbeatInterval is longer than the master's: heartbeats are sent at the master's interval; give every host the same sys.properties",
			"workerHeartbeatInterval", every, "interval", ttl/3)
		every = ttl / 3
	}
	return every
}

// heartbeats keeps the worker's liveness record fresh.
func (w *Worker) heartbeats(ctx context.Context, every time.Duration) {
	last, at := w.read.Load(), time.Now()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		now, read := time.Now(), w.read.Load()
		hb := protocol.Heartbeat{Worker: w.opts.Name, At: now, Running: int(w.running.Load()), Version: version.Get().Version}
		if secs := now.Sub(at).Seconds(); secs > 0 {
			hb.BytesPerSecond = float64(read-last) / secs
		}
		last, at = read, now
		w.opts.Metrics.Worker(w.opts.Name, true, hb.BytesPerSecond)
		w.opts.Metrics.WorkerTasks(w.opts.Name, hb.Running)
		w.opts.Metrics.WorkerSlots(w.opts.Name, w.slots.Limit())
		if data, err := protocol.EncodeHeartbeat(hb); err == nil {
			if err := w.opts.Bus.Heartbeat(ctx, w.opts.Name, data); err != nil && ctx.Err() == nil {
				w.log.Warn("cannot send heartbeat", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// abortReason says why the job cannot proceed when every object failed
// because the destination or source refuses us (bucket gone, credentials
// revoked), or "".
func abortReason(objs []protocol.ObjectResult, errs []error) string {
	if len(objs) == 0 || len(errs) != len(objs) {
		return ""
	}
	for _, err := range errs {
		if !errors.Is(err, storage.ErrAccessDenied) && !errors.Is(err, storage.ErrBucketNotExist) {
			return ""
		}
	}
	return objs[0].Detail
}
