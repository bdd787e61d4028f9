// Package master is the master and tracker roles of the service: it plans
// submitted jobs into the bus's task queue, files the workers' results in
// the working-directory view, fails tasks that exhausted their
// deliveries, aborts jobs that cannot proceed, and answers the console's
// control requests (stop, retry, clean).
package master

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/job"
	"github.com/ossimport/ossimport/internal/metrics"
	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/report"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// Options configure the master.
type Options struct {
	Dir    workdir.Dir
	Bus    *bus.Bus
	Sys    *config.Sys
	Logger *slog.Logger
	// TrackerLogger receives the tracker's lines (results filed, tasks
	// failed); Logger when nil.
	TrackerLogger *slog.Logger
	// JobLogger receives the job-level lines operators read first
	// (logs/import.log: job started, scans and rounds, failed objects,
	// job finished); Logger when nil.
	JobLogger *slog.Logger
	// Poll is how often submitted jobs are looked for (default 1s).
	Poll time.Duration
	// Stop is called when the console asks the service to stop.
	Stop func()
	// Metrics, when set, observes the results the master files.
	Metrics *metrics.Metrics
	// Resolve builds a submitted job's spec (job.FromConfig when nil;
	// tests give their own stores this way).
	Resolve job.Resolver
	// Name identifies this service in the master lease (stat shows it);
	// "master" when empty.
	Name string
	// Service names this service for the requests addressed to it alone
	// (ping, stop: bus.RequestService); none are answered when empty.
	Service string
	// Predecessor is the lease name of this service's predecessor on the
	// working directory when it is known to have been killed: its lease
	// is taken over at once.
	Predecessor string
}

// Validate checks the options and fills in defaults.
func (o *Options) Validate() error {
	if o.Dir == "" || o.Bus == nil || o.Sys == nil {
		return errors.New("master: working directory, bus and sys settings are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.TrackerLogger == nil {
		o.TrackerLogger = o.Logger
	}
	if o.JobLogger == nil {
		o.JobLogger = o.Logger
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Stop == nil {
		o.Stop = func() {}
	}
	if o.Resolve == nil {
		o.Resolve = job.FromConfig
	}
	if o.Name == "" {
		o.Name = "master"
	}
	return nil
}

// Master runs the master and tracker roles.
type Master struct {
	opts Options
	log  *slog.Logger
	tlog *slog.Logger // the tracker's
	jlog *slog.Logger // the job-level lines (import.log)

	mu       sync.Mutex
	planning map[string]*planner // jobs being planned
	done     map[string]bool     // jobs whose scan finished in this process
	cleaning map[string]bool     // jobs being cleaned: not planned meanwhile
	ended    map[string]string   // the final state last logged per job
	fileMu   sync.Mutex          // serialises moves in the workdir view
	book     *tracker.Ledger     // the jobs' counters (COUNTERS files)

	leading    atomic.Bool     // this service holds the master lease
	running    context.Context // Run's context
	filed      atomic.Uint64   // the last journal entry filed in the view
	markMu     sync.Mutex      // serialises writes of the journal marker
	lastLeader time.Time       // the lease's last renewal seen (under mu)

	jobsNudge, endsNudge nudge // wake watchJobs, watchEnds (nudge.go)
}

// New returns a master.
func New(opts Options) (*Master, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	return &Master{opts: opts, log: opts.Logger, tlog: opts.TrackerLogger, jlog: opts.JobLogger,
		planning: map[string]*planner{}, done: map[string]bool{}, cleaning: map[string]bool{}, ended: map[string]string{},
		book: tracker.NewLedger(opts.Dir), jobsNudge: newNudge(), endsNudge: newNudge()}, nil
}

// Run runs until ctx ends: it files the journal into the view and
// campaigns for the master lease, doing the active master's work while
// it holds it.
func (m *Master) Run(ctx context.Context) error {
	m.running = ctx
	m.repairTasks(ctx)
	m.openBook()
	defer m.closeBook()
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	run := func(f func(context.Context) error) {
		wg.Go(func() {
			if err := f(ctx); err != nil && ctx.Err() == nil {
				errc <- err
			}
		})
	}
	// The journal is followed until the end of the journal as the
	// service stops is filed (below): the results its workers handed
	// back as they stopped are in the view it leaves.
	fctx, fstop := context.WithCancel(context.WithoutCancel(ctx))
	var fwg sync.WaitGroup
	fwg.Go(func() {
		if err := m.follow(fctx); err != nil && fctx.Err() == nil {
			errc <- err
		}
	})
	run(m.mirrorCheckpoints)
	run(m.watchJobs)
	run(m.watchSubmits)
	run(m.watchEnds)
	run(m.recordWorkers)
	run(m.book.Run)
	run(func(ctx context.Context) error { return m.opts.Bus.SubscribeProgress(ctx, m.onProgress) })
	run(m.campaign)
	if m.opts.Service != "" {
		run(func(ctx context.Context) error { return m.opts.Bus.HandleService(ctx, m.opts.Service, m.control) })
	}
	var first error
	select {
	case <-ctx.Done():
	case first = <-errc:
	}
	m.stopPlanning()
	wg.Wait()
	if first == nil {
		dctx, cancel := context.WithTimeout(fctx, finalFilingWait)
		if err := m.filedUpTo(dctx); err != nil {
			m.log.Warn("stopping before the journal's last entries were filed; the next start files them", "err", err)
		}
		cancel()
	}
	fstop()
	fwg.Wait()
	m.leftView()
	return first
}

// finalFilingWait bounds filing the journal's last entries as the
// service stops.
const finalFilingWait = 10 * time.Second

// watchJobs notes the submitted jobs' modes and, on the active master,
// starts planning the jobs whose scan is not finished.
func (m *Master) watchJobs(ctx context.Context) error {
	t := time.NewTicker(m.opts.Poll)
	defer t.Stop()
	for {
		names, err := m.opts.Bus.Jobs().Keys(ctx)
		if err != nil && ctx.Err() == nil {
			m.log.Warn("cannot list jobs", "err", err)
		}
		for _, name := range names {
			m.maybePlan(ctx, name)
		}
		if !m.jobsNudge.wait(ctx, t.C, time.Now()) {
			return nil
		}
	}
}

// maybePlan starts the planner of a job unless it runs or finished.
func (m *Master) maybePlan(ctx context.Context, name string) {
	m.mu.Lock()
	_, busy := m.planning[name]
	skip := busy || m.done[name] || m.cleaning[name]
	m.mu.Unlock()
	if skip {
		return
	}
	pj, err := m.job(ctx, name)
	if err != nil {
		m.log.Warn("cannot read job", "job", name, "err", err)
		return
	}
	if _, err := os.Stat(m.opts.Dir.Job(name)); err == nil {
		m.restoreJobFiles(ctx, pj)
	}
	if pj.State == tracker.Abort {
		return
	}
	spec, err := m.spec(pj)
	if err != nil {
		m.abort(ctx, name, err.Error())
		return
	}
	m.book.Mode(name, spec.Incremental, spec.Interval)
	if !m.isLeader() {
		return
	}
	pctx, cancel := context.WithCancel(ctx)
	p := &planner{cancel: cancel}
	m.mu.Lock()
	if _, busy := m.planning[name]; busy || m.cleaning[name] {
		m.mu.Unlock()
		cancel()
		return
	}
	m.planning[name] = p
	m.mu.Unlock()
	go func() {
		defer cancel()
		err := m.plan(pctx, spec)
		m.mu.Lock()
		if m.planning[name] == p { // not cleaned and submitted again meanwhile
			delete(m.planning, name)
			m.done[name] = err == nil && pctx.Err() == nil
		}
		m.mu.Unlock()
		if err != nil && pctx.Err() == nil {
			m.log.Error("planning failed", "job", name, "err", err)
			m.abort(ctx, name, err.Error())
		}
	}()
}

// planner is one running planning of a job; a planning that ends after
// its job was cleaned (and maybe submitted again) leaves the state alone.
type planner struct{ cancel context.CancelFunc }

func (m *Master) job(ctx context.Context, name string) (protocol.Job, error) {
	var pj protocol.Job
	data, err := m.opts.Bus.Jobs().Get(ctx, name)
	if err != nil {
		return pj, err
	}
	err = json.Unmarshal(data, &pj)
	return pj, err
}

// spec rebuilds a job's engine spec from its submitted config.
func (m *Master) spec(pj protocol.Job) (*job.Spec, error) {
	return m.opts.Resolve(pj.File, pj.Config, m.opts.Sys)
}

// publish adds a planned task to the job's journal, which files it as
// pending in every view, then queues it. A task the view knows in another
// state than pending (planned again after a crash or a takeover) is not
// queued again; the journal and the queue drop a duplicate by task id.
func (m *Master) publish(ctx context.Context, t plan.Task) error {
	m.fileMu.Lock()
	_, state, err := tracker.Locate(m.opts.Dir, t.Job, t.ID)
	m.fileMu.Unlock()
	known := err == nil
	if known && state != workdir.Pending {
		return nil
	}
	data, err := protocol.EncodeTask(t)
	if err != nil {
		return err
	}
	if !known {
		if err := m.opts.Bus.Append(ctx, t.Job, bus.KindPlanned, t.ID, t.ID, data); err != nil {
			return err
		}
	}
	return m.opts.Bus.PublishTask(ctx, t.Job, t.ID, data)
}

// onResult files a result from the journal. Results of unknown tasks
// (cleaned jobs) are dropped.
func (m *Master) onResult(e bus.JournalEntry) error {
	res, err := protocol.DecodeResult(e.Data)
	if err != nil {
		m.tlog.Error("dropping an undecodable result", "job", e.Job, "task", e.TaskID, "err", err)
		return nil
	}
	m.fileMu.Lock()
	c, err := m.apply(res)
	m.fileMu.Unlock()
	m.endsNudge.poke()
	if errors.Is(err, tracker.ErrUnknownTask) {
		return nil
	}
	if err != nil {
		return err
	}
	if res.Partial { // handed back by a stopping worker: not done yet
		m.tlog.Info("task handed back", "job", res.Job, "task", res.TaskID, "worker", res.Worker, "recorded", c.Done())
		return nil
	}
	m.tlog.Info("task done", "job", res.Job, "task", res.TaskID, "worker", res.Worker, "copied", c.Copied, "failed", c.Failed)
	if m.isLeader() {
		m.logFailures(res)
	}
	if res.Abort != "" {
		// Every view files the abort the result asks for.
		m.logAbort(res.Job, res.Abort)
		return m.fileAbort(res.Job, res.Abort)
	}
	return nil
}

// onProgress moves a task under the worker that reports running it.
func (m *Master) onProgress(p bus.Progress) {
	m.fileMu.Lock()
	defer m.fileMu.Unlock()
	defer m.book.Track(p.Job, p.TaskID)()
	if _, err := protocol.DecodeProgress(p.Data); err != nil {
		m.tlog.Warn("dropping an undecodable progress report", "job", p.Job, "task", p.TaskID, "worker", p.Worker, "err", err)
		return
	}
	if err := tracker.Dispatch(m.opts.Dir, p.Job, p.TaskID, p.Worker); err != nil && !errors.Is(err, tracker.ErrUnknownTask) {
		m.tlog.Warn("cannot file a running task", "job", p.Job, "task", p.TaskID, "err", err)
		return
	}
	if path, state, err := tracker.Locate(m.opts.Dir, p.Job, p.TaskID); err == nil && state == workdir.Dispatched {
		_ = workdir.WriteFile(path+"/"+tracker.ProgressFile, p.Data)
		m.book.Progress(p.Job, p.TaskID, p.Worker, p.Data)
	}
}

// onDead fails the tasks no worker could finish within taskMaxDeliver
// deliveries.
func (m *Master) onDead(ctx context.Context, dead <-chan bus.DeadTask) {
	for {
		select {
		case <-ctx.Done():
			return
		case d, ok := <-dead:
			if !ok {
				return
			}
			if err := m.failTask(ctx, d); err != nil {
				m.log.Warn("cannot fail a dead task; it is reported again", "job", d.Job, "task", d.TaskID, "err", err)
				continue
			}
			// Acking drops the stuck task from the queue and the event.
			if err := d.Ack(); err != nil {
				m.log.Warn("cannot ack a dead task; it is reported again", "job", d.Job, "task", d.TaskID, "err", err)
			}
		}
	}
}

func (m *Master) failTask(ctx context.Context, d bus.DeadTask) error {
	m.fileMu.Lock()
	path, _, err := tracker.Locate(m.opts.Dir, d.Job, d.TaskID)
	var t plan.Task
	if err == nil {
		t, err = record.ReadTask(path)
	}
	m.fileMu.Unlock()
	if err != nil {
		return nil // a task of a cleaned job, or one the view lost: nothing to fail
	}
	reason := fmt.Sprintf("task failed on %d deliveries: its workers died or kept failing (taskMaxDeliver=%d); see logs/worker.log on the workers, then retry", d.Deliveries, m.opts.Sys.TaskMaxDeliver)
	res := protocol.TaskResult{Job: d.Job, TaskID: d.TaskID, Worker: "tracker", Finished: time.Now()}
	for _, o := range t.Objects {
		res.Objects = append(res.Objects, protocol.ObjectResult{Object: o, Code: transfer.UploadFailed, Detail: reason, At: res.Finished})
	}
	if err := m.appendResult(ctx, res, "dead-"+d.TaskID+"-"+strconv.FormatUint(d.Seq, 10)); err != nil {
		return err
	}
	m.tlog.Warn("task failed after its last delivery", "job", d.Job, "task", d.TaskID, "deliveries", d.Deliveries)
	return nil
}

// abort stops a job that cannot proceed: the abort goes to the job's
// journal, which every view files (fileAbort).
func (m *Master) abort(ctx context.Context, name, reason string) {
	m.logAbort(name, reason)
	if err := m.opts.Bus.Append(ctx, name, bus.KindAbort, "", "", []byte(reason)); err != nil {
		m.log.Error("cannot record the abort in the journal", "job", name, "err", err)
		// Filed here at least, so that this view stops the job.
		if err := m.fileAbort(name, reason); err != nil {
			m.log.Error("cannot record the abort", "job", name, "err", err)
		}
	}
}

func (m *Master) logAbort(name, reason string) {
	if !m.isLeader() {
		return
	}
	m.log.Error("job aborted", "job", name, "reason", reason)
	m.jlog.Error("job aborted", "job", name, "reason", reason)
}

// stopAborted is the active master's part of an abort: the job's queued
// tasks go, and its spec records the state.
func (m *Master) stopAborted(ctx context.Context, name, reason string) {
	if err := m.opts.Bus.PurgeQueue(ctx, name); err != nil {
		m.log.Warn("cannot drop the aborted job's queued tasks", "job", name, "err", err)
	}
	if pj, err := m.job(ctx, name); err == nil && pj.State != tracker.Abort {
		pj.State, pj.Reason = tracker.Abort, reason
		if data, err := json.Marshal(pj); err == nil {
			_ = m.opts.Bus.Jobs().Put(ctx, name, data)
		}
	}
}

func (m *Master) stopPlanning() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range m.planning {
		p.cancel()
	}
}

// apply files a task result with tracker.Apply, then adds the objects it
// recorded to the job's reports and metrics. The caller holds fileMu.
//
// Apply skips what an earlier application already counted: the whole
// result when the task already succeeded, and each object its task
// progress already holds as finished OK. The same objects are left out
// here, read from the task progress before Apply, so a redelivered or
// re-applied result (after a crash) adds no copied or skipped rows twice
// and nothing is kept in memory. Failed objects of a result applied again
// to a still-failed task are reported again, as audit.log records them
// again.
func (m *Master) apply(res protocol.TaskResult) (record.Counters, error) {
	defer m.book.Track(res.Job, res.TaskID)()
	var fresh []protocol.ObjectResult
	path, state, lerr := tracker.Locate(m.opts.Dir, res.Job, res.TaskID)
	if lerr == nil && state != workdir.Succeed && (!res.Partial || tracker.PartialApplies(state)) {
		done, err := record.ReadProgress(path)
		if err != nil {
			return record.Counters{}, err
		}
		for _, o := range res.Objects {
			if code, ok := done.Finished[o.Object.Key]; (!ok || !code.OK()) && (!res.Partial || o.Code.OK()) {
				fresh = append(fresh, o)
			}
		}
	}
	if lerr == nil {
		fresh = dueRows(path, res, fresh) // rows a crash left unwritten: reporting.go
	}
	c, err := tracker.Apply(m.opts.Dir, res)
	if err != nil || len(fresh) == 0 {
		return c, err
	}
	for _, o := range fresh {
		m.opts.Metrics.Observe(res.Job, o.Result())
	}
	w, err := report.Open(report.JobDir(m.opts.Dir, res.Job))
	if err != nil {
		m.tlog.Error("cannot open the reports", "job", res.Job, "err", err)
		return c, nil
	}
	for _, o := range fresh {
		at := o.At
		if at.IsZero() {
			at = time.Now()
		}
		if err := w.AddAt(o.Result(), at); err != nil {
			m.tlog.Error("cannot write the reports", "job", res.Job, "task", res.TaskID, "err", err)
			break
		}
	}
	if err := w.Close(); err != nil {
		m.tlog.Error("cannot write the reports", "job", res.Job, "err", err)
		return c, nil
	}
	m.rowsWritten(res.Job, res.TaskID)
	return c, nil
}
