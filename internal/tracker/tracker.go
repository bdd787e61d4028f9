package tracker

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// The tracker role: every service runs one, leader or standby. It follows
// the jobs' journals (bus.Follow) and files each entry into its own
// working-directory view (task folders, records, reports), keeps the
// jobs' counters (Ledger), files the workers' progress reports and
// heartbeats, and repairs the view at start. The view is a projection of
// the journals, so it can be rebuilt from them (Rebuild). What is decided
// (planning, retries, aborts, dead tasks) is the master's: the tracker
// only files it, and tells the master through Options' hooks.

// Observer counts what the tracker files; *metrics.Metrics is one.
type Observer interface {
	// Observe counts one object's result.
	Observe(job string, r transfer.Result)
	// Workers records the workers the tracker knows, alive or not.
	Workers(ws []WorkerStatus)
}

// Options configure the tracker.
type Options struct {
	Dir workdir.Dir
	Bus *bus.Bus
	// Logger receives the filing lines (logs/tracker.log: results filed,
	// tasks handed back).
	Logger *slog.Logger
	// ServiceLogger receives the lines about the view as a whole
	// (logs/master.log: repairs at start, the journal marker, the
	// counters, workers joining and lost); Logger when nil.
	ServiceLogger *slog.Logger
	// JobLogger receives the job-level lines (logs/import.log: damaged
	// tasks found at start); Logger when nil.
	JobLogger *slog.Logger
	// Metrics, when set, counts the objects filed and the workers.
	Metrics Observer
	// Filed is called with every finished result once it is filed (not
	// with one handed back by a stopping worker), before the abort it
	// asks for is filed: the active master logs its failed objects.
	Filed func(res protocol.TaskResult)
	// Aborted is called once a job's abort is filed in the view: the
	// master stops planning the job (and the active master stops it).
	Aborted func(job, reason string)
	// Idle is called when a job's last pending or running task is
	// filed (its counters, just written, show no work left): the job may
	// have ended, and the master looks at once. It runs under the
	// tracker's locks and must not block.
	Idle func(job string)
}

// Validate checks the options and fills in defaults.
func (o *Options) Validate() error {
	if o.Dir == "" || o.Bus == nil {
		return errors.New("tracker: working directory and bus are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ServiceLogger == nil {
		o.ServiceLogger = o.Logger
	}
	if o.JobLogger == nil {
		o.JobLogger = o.Logger
	}
	if o.Metrics == nil {
		o.Metrics = noMetrics{}
	}
	if o.Filed == nil {
		o.Filed = func(protocol.TaskResult) {}
	}
	if o.Aborted == nil {
		o.Aborted = func(string, string) {}
	}
	if o.Idle == nil {
		o.Idle = func(string) {}
	}
	return nil
}

type noMetrics struct{}

func (noMetrics) Observe(string, transfer.Result) {}
func (noMetrics) Workers([]WorkerStatus)          {}

// FinalFilingWait bounds filing the journal's last entries as the
// service stops (Stop).
const FinalFilingWait = 10 * time.Second

// Tracker files the journals, progress and heartbeats into the view.
type Tracker struct {
	opts Options
	log  *slog.Logger // tracker.log
	svc  *slog.Logger // master.log
	jlog *slog.Logger // import.log

	fileMu sync.Mutex    // serialises moves in the view
	book   *Ledger       // the jobs' counters (COUNTERS files)
	filed  atomic.Uint64 // the last journal entry filed in the view
	markMu sync.Mutex    // serialises writes of the journal marker
	stuck  uint64        // the entry that failed to file last (the follower's goroutine only)

	errc  chan error         // the first failures after Start
	wg    sync.WaitGroup     // what ends with Start's context
	fctx  context.Context    // the journal's following, until Stop
	fstop context.CancelFunc // ends fctx
	fwg   sync.WaitGroup
}

// New returns a tracker.
func New(opts Options) (*Tracker, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	return &Tracker{opts: opts, log: opts.Logger, svc: opts.ServiceLogger, jlog: opts.JobLogger,
		book: NewLedger(opts.Dir, opts.Idle), errc: make(chan error, 4)}, nil
}

// Start repairs the view's damaged task folders, loads the counters,
// then files: the journal until Stop (so that the results workers hand
// back as the service stops are filed), the progress reports and the
// workers' heartbeats until ctx ends. Failures are reported on Err.
func (t *Tracker) Start(ctx context.Context) {
	t.repairTasks(ctx)
	t.openBook()
	t.fctx, t.fstop = context.WithCancel(context.WithoutCancel(ctx))
	t.fwg.Go(func() { t.report(t.fctx, t.follow(t.fctx)) })
	run := func(f func(context.Context) error) {
		t.wg.Go(func() { t.report(ctx, f(ctx)) })
	}
	run(t.book.Run)
	run(func(ctx context.Context) error { return t.opts.Bus.SubscribeProgress(ctx, t.onProgress) })
	run(t.recordWorkers)
}

func (t *Tracker) report(ctx context.Context, err error) {
	if err != nil && ctx.Err() == nil {
		t.errc <- err // one send per goroutine: never blocks
	}
}

// Err delivers the failures of the filing started by Start.
func (t *Tracker) Err() <-chan error { return t.errc }

// Stop waits for what ended with Start's context, files the journal up
// to its end as it is now when drain is set (at most FinalFilingWait),
// stops following it and writes the counters with their clean mark.
func (t *Tracker) Stop(drain bool) {
	t.wg.Wait()
	if drain {
		dctx, cancel := context.WithTimeout(t.fctx, FinalFilingWait)
		if err := t.FiledUpTo(dctx); err != nil {
			t.svc.Warn("stopping before the journal's last entries were filed; the next start files them", "err", err)
		}
		cancel()
	}
	t.fstop()
	t.fwg.Wait()
	t.closeBook()
}

// Locate finds a task's folder and state in the view (Locate), between
// two filings.
func (t *Tracker) Locate(job, id string) (path, state string, err error) {
	t.fileMu.Lock()
	defer t.fileMu.Unlock()
	return Locate(t.opts.Dir, job, id)
}

// Task reads a task of the view as it was planned.
func (t *Tracker) Task(job, id string) (plan.Task, error) {
	t.fileMu.Lock()
	defer t.fileMu.Unlock()
	path, _, err := Locate(t.opts.Dir, job, id)
	if err != nil {
		return plan.Task{}, err
	}
	return record.ReadTask(path)
}

// QueuedTask returns a pending task of the view as its retry runs it
// (QueuedTask), between two filings.
func (t *Tracker) QueuedTask(job, id string) (plan.Task, int, error) {
	t.fileMu.Lock()
	defer t.fileMu.Unlock()
	return QueuedTask(t.opts.Dir, job, id)
}

// Change holds the view for a change the master makes to one task's
// folder itself (a retry filed at once): no filing runs until the
// function it returns is called, which also counts the change.
func (t *Tracker) Change(job, id string) (done func()) {
	t.fileMu.Lock()
	counted := t.book.Track(job, id)
	return func() {
		counted()
		t.fileMu.Unlock()
	}
}

// Mode records whether a job is incremental, and its interval, in its
// counters.
func (t *Tracker) Mode(job string, incremental bool, interval time.Duration) {
	t.book.Mode(job, incremental, interval)
}

// Forget drops a job's counters (the job is being cleaned).
func (t *Tracker) Forget(job string) { t.book.Forget(job) }
