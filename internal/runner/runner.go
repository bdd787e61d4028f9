// Package runner runs one job to completion in one process: it plans the
// source into tasks, copies them with the shared object slots, and keeps
// the working directory's records up to date, so that a run killed at
// any point continues where it stopped when started again. `ossimport
// run` and standalone mode use it.
package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/ossimport/ossimport/internal/job"
	"github.com/ossimport/ossimport/internal/metrics"
	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/report"
	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// Worker is the worker name this process uses in the workdir view.
const Worker = "localhost"

// Options configure a run.
type Options struct {
	Job    *job.Spec
	Dir    workdir.Dir
	Logger *slog.Logger
	// DryRun plans and reports, copying nothing and writing no records.
	DryRun bool
	// OnTask is called (serially) when a task finishes; optional.
	OnTask func(id string, c record.Counters)
	// Metrics, when set, observes every result; nil records nothing.
	Metrics *metrics.Metrics
}

// Validate checks the options.
func (o *Options) Validate() error {
	switch {
	case o.Job == nil:
		return errors.New("runner: no job")
	case o.Dir == "":
		return errors.New("runner: no working directory")
	case o.Logger == nil:
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Runner runs one job.
type Runner struct {
	opts   Options
	spec   *job.Spec
	src    storage.Source
	dst    storage.Destination
	copier *transfer.Copier
	slots  transfer.Slots
	log    *slog.Logger
	// bandwidth is the byte limiter the schedule adjusts, nil when uncapped.
	bandwidth *rate.Limiter
	// reports receives every result (master/jobs/<job>/reports); nil in
	// a dry run.
	reports *report.Writer

	mu       sync.Mutex
	counters record.Counters
	tasks    TaskCounts
	scan     plan.Stats
	scanDone bool
	round    int
	started  time.Time
	copied   atomic.Int64 // bytes read from the source so far
}

// TaskCounts count tasks by state.
type TaskCounts struct {
	Pending, Running, Succeed, Failed int
}

// New opens the job's stores and checks that they can be reached.
func New(ctx context.Context, opts Options) (*Runner, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	r := &Runner{opts: opts, spec: opts.Job, log: opts.Logger, slots: transfer.NewSlots(opts.Job.Threads)}
	src, dst, err := job.Open(ctx, opts.Job)
	if err != nil {
		return nil, err
	}
	r.src, r.dst = src, dst
	topts := opts.Job.Transfer
	topts.OnBytes = func(n int64) { r.copied.Add(n) }
	bytes, requests := opts.Job.Limiters()
	if bytes != nil {
		topts.Bandwidth, r.bandwidth = bytes, bytes
	}
	if requests != nil {
		topts.Requests = requests
	}
	if r.copier, err = transfer.New(dst, src, topts); err != nil {
		return nil, err
	}
	return r, nil
}

// Run plans and copies until the job is done, ctx ends, or a task fails
// in a way that aborts the job. Tasks left by an earlier run are resumed
// first; tasks that failed earlier are retried (only their failed
// objects).
func (r *Runner) Run(ctx context.Context) (Summary, error) {
	r.mu.Lock()
	r.started = time.Now()
	r.mu.Unlock()
	queue := newQueue()
	if !r.opts.DryRun {
		if err := r.recover(queue); err != nil {
			return r.Summary(), err
		}
		reports, err := report.Open(report.JobDir(r.opts.Dir, r.spec.Name))
		if err != nil {
			return r.Summary(), err
		}
		r.reports = reports
		defer func() {
			if err := reports.Close(); err != nil {
				r.log.Error("cannot close the reports", "job", r.spec.Name, "err", err)
			}
		}()
	}
	r.opts.Metrics.Tasks(r.taskMetrics)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	if r.bandwidth != nil {
		throttled, stop := context.WithCancel(ctx)
		defer stop()
		go r.spec.Throttle(throttled, r.bandwidth)
	}
	wg.Go(func() {
		defer queue.close()
		if err := r.plan(ctx, queue); err != nil {
			cancel(err)
		}
	})
	for range max(r.spec.Threads, 1) {
		wg.Go(func() {
			for id := range queue.next(ctx) {
				if err := r.runTask(ctx, id); err != nil {
					cancel(err)
				}
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return r.Summary(), err
	}
	return r.Summary(), ctx.Err()
}

// plan runs the planner, resuming its checkpoint; incremental jobs then
// rescan every interval until ctx ends.
func (r *Runner) plan(ctx context.Context, queue *queue) error {
	path := r.opts.Dir.Checkpoint(r.spec.Name)
	var cp *plan.Checkpoint
	if !r.opts.DryRun {
		var err error
		if cp, err = workdir.LoadCheckpoint(path); err != nil {
			return err
		}
	}
	opts := r.spec.Plan
	for {
		if cp != nil && cp.Done {
			if !r.spec.Incremental || r.opts.DryRun {
				r.scanned(cp, !r.spec.Incremental)
				return nil
			}
			// The next incremental round, once the interval has passed.
			r.scanned(cp, false)
			next := time.UnixMilli(cp.Finished).Add(r.spec.Interval)
			if transfer.Sleep(ctx, time.Until(next)) != nil {
				return nil
			}
			opts = r.incremental(cp.Round + 1)
			cp = nil
		} else if cp != nil && cp.Round > 0 {
			opts = r.incremental(cp.Round)
		}
		final, err := r.scanOnce(ctx, opts, cp, path, queue)
		if err != nil {
			return err
		}
		cp = final
	}
}

// incremental returns the plan options of rescan round n: importSince no
// longer applies, and only objects new or changed at the destination are
// planned.
func (r *Runner) incremental(round int) plan.Options {
	opts := r.spec.Plan
	opts.Round, opts.Since = round, time.Time{}
	opts.Changed = r.copier.Changed
	return opts
}

// scanOnce runs one scan round to its end.
func (r *Runner) scanOnce(ctx context.Context, opts plan.Options, cp *plan.Checkpoint, path string, queue *queue) (*plan.Checkpoint, error) {
	emit := func(ctx context.Context, t plan.Task) error {
		if r.opts.DryRun {
			r.addPlanned(t)
			return nil
		}
		fresh, err := r.persist(t)
		if err == nil && fresh {
			queue.push(t.ID)
		}
		return err
	}
	save := func(ctx context.Context, cp *plan.Checkpoint) error {
		r.mu.Lock()
		r.scan = cp.Stats
		r.mu.Unlock()
		r.opts.Metrics.ScanListed(r.spec.Name, cp.Stats.Listed)
		if r.opts.DryRun {
			return nil
		}
		return workdir.SaveCheckpoint(path, cp)
	}
	p, err := plan.New(r.src, opts, emit, save)
	if err != nil {
		return nil, err
	}
	final, err := p.Run(ctx, cp)
	if err != nil {
		return nil, fmt.Errorf("plan job %s: %w", r.spec.Name, err)
	}
	r.log.Info("scan finished", "job", r.spec.Name, "round", final.Round, "tasks", final.Stats.Tasks, "objects", final.Stats.Planned, "bytes", final.Stats.Bytes)
	return final, nil
}

// scanned records a finished scan; finished is false for incremental
// jobs, whose scan is never over.
func (r *Runner) scanned(cp *plan.Checkpoint, finished bool) {
	r.mu.Lock()
	r.scan, r.scanDone, r.round = cp.Stats, finished, cp.Round
	r.mu.Unlock()
}

// persist files a planned task under pending_tasks (tracker.FilePlanned)
// and reports whether it is new.
func (r *Runner) persist(t plan.Task) (bool, error) {
	if _, fresh, err := tracker.FilePlanned(r.opts.Dir, t); err != nil || !fresh {
		return false, err
	}
	r.addPlanned(t)
	return true, nil
}

// addPlanned counts a pending task and its objects.
func (r *Runner) addPlanned(t plan.Task) {
	r.mu.Lock()
	r.tasks.Pending++
	r.counters.Objects += int64(len(t.Objects))
	r.counters.Bytes += t.Bytes
	r.mu.Unlock()
}

// recover queues tasks an earlier run left: running ones and pending ones
// resume, failed ones are retried with their failed objects only, and
// succeeded ones are counted.
func (r *Runner) recover(queue *queue) error {
	name := r.spec.Name
	running := filepath.Join(r.opts.Dir.Job(name), workdir.Dispatched, Worker)
	for _, id := range workdir.Subdirs(running) {
		if err := workdir.Move(filepath.Join(running, id), r.opts.Dir.Task(name, workdir.Pending, "", id)); err != nil {
			return err
		}
	}
	for _, id := range workdir.Subdirs(filepath.Join(r.opts.Dir.Job(name), workdir.Failed)) {
		if err := Requeue(r.opts.Dir, name, id); err != nil {
			return err
		}
	}
	for _, id := range workdir.Subdirs(filepath.Join(r.opts.Dir.Job(name), workdir.Pending)) {
		path := r.opts.Dir.Task(name, workdir.Pending, "", id)
		t, err := record.ReadTask(path)
		if errors.Is(err, os.ErrNotExist) {
			// A crash while the task was filed: the scan, whose checkpoint
			// did not move past it, plans it again.
			if err := os.RemoveAll(path); err != nil {
				return fmt.Errorf("remove the half-written task %s: %w", path, err)
			}
			continue
		}
		if err != nil {
			return err
		}
		r.addPlanned(t)
		queue.push(id)
	}
	for _, id := range workdir.Subdirs(filepath.Join(r.opts.Dir.Job(name), workdir.Succeed)) {
		t, err := record.ReadTask(r.opts.Dir.Task(name, workdir.Succeed, "", id))
		if err != nil {
			return err
		}
		r.mu.Lock()
		r.tasks.Succeed++
		r.counters.Objects += int64(len(t.Objects))
		r.counters.Bytes += t.Bytes
		r.mu.Unlock()
	}
	return nil
}

// Preflight checks that both stores answer before anything is planned.
func (r *Runner) Preflight(ctx context.Context) error {
	return job.Preflight(ctx, r.spec, r.src, r.dst)
}

// Source names the source store.
func (r *Runner) Source() string { return r.src.String() }

// Destination names the destination store.
func (r *Runner) Destination() string { return r.dst.String() }

// taskMetrics reports the run's tasks by state for ossimport_tasks.
func (r *Runner) taskMetrics() []metrics.TaskCount {
	r.mu.Lock()
	defer r.mu.Unlock()
	name := r.spec.Name
	return []metrics.TaskCount{{Job: name, State: metrics.StatePending, N: r.tasks.Pending}, {Job: name, State: metrics.StateRunning, N: r.tasks.Running},
		{Job: name, State: metrics.StateSucceed, N: r.tasks.Succeed}, {Job: name, State: metrics.StateFailed, N: r.tasks.Failed}}
}
