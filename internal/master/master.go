// Package master is the master role of the service: it plans submitted
// jobs into the bus's task queue, fails tasks that exhausted their
// deliveries, retries, aborts jobs that cannot proceed, and answers the
// console's control requests (stop, retry, clean). Every service runs
// one; the holder of the master lease decides. Each master runs a
// tracker (package tracker) beside it, which files the journals into the
// working-directory view and keeps the counters.
package master

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/job"
	"github.com/ossimport/ossimport/internal/metrics"
	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// Options configure the master.
type Options struct {
	Dir workdir.Dir
	Bus *bus.Bus
	// Settings are the master's sys.properties settings (SettingsFrom).
	Settings Settings
	Logger   *slog.Logger
	// TrackerLogger receives the tracker's lines (results filed, tasks
	// failed): the tracker's Logger; Logger when nil.
	TrackerLogger *slog.Logger
	// JobLogger receives the job-level lines operators read first
	// (logs/import.log: job started, scans and rounds, failed objects,
	// job finished); Logger when nil.
	JobLogger *slog.Logger
	// Poll is how often submitted jobs are looked for (default 1s).
	Poll time.Duration
	// Stop is called when the console asks the service to stop.
	Stop func()
	// Metrics, when set, observes the results the tracker files.
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
	if o.Dir == "" || o.Bus == nil {
		return errors.New("master: working directory and bus are required")
	}
	if err := o.Settings.Validate(); err != nil {
		return err
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

// Master runs the master role beside its tracker.
type Master struct {
	opts Options
	log  *slog.Logger
	tlog *slog.Logger // the tracker's
	jlog *slog.Logger // the job-level lines (import.log)
	tr   *tracker.Tracker

	mu       sync.Mutex
	planning map[string]*planner // jobs being planned
	done     map[string]bool     // jobs whose scan finished in this process
	cleaning map[string]bool     // jobs being cleaned: not planned meanwhile
	ended    map[string]string   // the final state last logged per job
	// endSeen is closed, and replaced, when a job reaches a final state
	// (EndSeen).
	endSeen chan struct{}

	leading    atomic.Bool     // this service holds the master lease
	running    context.Context // Run's context
	lastLeader time.Time       // the lease's last renewal seen (under mu)

	jobsNudge, endsNudge *nudge // wake watchJobs, watchEnds (nudge.go)
}

// New returns a master.
func New(opts Options) (*Master, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	m := &Master{opts: opts, log: opts.Logger, tlog: opts.TrackerLogger, jlog: opts.JobLogger,
		planning: map[string]*planner{}, done: map[string]bool{}, cleaning: map[string]bool{}, ended: map[string]string{},
		endSeen: make(chan struct{}), jobsNudge: newNudge(), endsNudge: newNudge()}
	to := m.opts.trackerOptions()
	to.Filed, to.Aborted, to.Idle = m.filed, m.aborted, m.idle
	tr, err := tracker.New(to)
	if err != nil {
		return nil, err
	}
	m.tr = tr
	return m, nil
}

// trackerOptions are the options of the tracker beside the master.
func (o *Options) trackerOptions() tracker.Options {
	to := tracker.Options{Dir: o.Dir, Bus: o.Bus, Logger: o.TrackerLogger, ServiceLogger: o.Logger, JobLogger: o.JobLogger}
	if o.Metrics != nil {
		to.Metrics = o.Metrics
	}
	return to
}

// Run runs until ctx ends: its tracker files the journal into the view
// while the master campaigns for the master lease, doing the active
// master's work while it holds it.
func (m *Master) Run(ctx context.Context) error {
	m.running = ctx
	// The tracker follows the journal until the end of the journal as
	// the service stops is filed (Stop): the results its workers handed
	// back as they stopped are in the view it leaves.
	m.tr.Start(ctx)
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	run := func(f func(context.Context) error) {
		wg.Go(func() {
			if err := f(ctx); err != nil && ctx.Err() == nil {
				errc <- err
			}
		})
	}
	run(m.mirrorCheckpoints)
	run(m.watchJobs)
	run(m.watchSubmits)
	run(m.watchEnds)
	run(m.campaign)
	if m.opts.Service != "" {
		run(func(ctx context.Context) error { return m.opts.Bus.HandleService(ctx, m.opts.Service, m.control) })
	}
	var first error
	select {
	case <-ctx.Done():
	case first = <-errc:
	case first = <-m.tr.Err():
	}
	m.stopPlanning()
	wg.Wait()
	m.tr.Stop(first == nil)
	m.leftView()
	return first
}

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
		m.tr.RestoreJobFiles(ctx, pj)
	}
	if pj.State == tracker.Abort {
		return
	}
	spec, err := m.spec(pj)
	if err != nil {
		m.abort(ctx, name, err.Error())
		return
	}
	m.tr.Mode(name, spec.Incremental, spec.Interval)
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
		m.endsNudge.pokeNow() // a scan that ends after its last task is filed ends the job
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
	return tracker.SubmittedJob(ctx, m.opts.Bus, name)
}

// spec rebuilds a job's engine spec from its submitted config.
func (m *Master) spec(pj protocol.Job) (*job.Spec, error) {
	return m.opts.Resolve(pj.File, pj.Config, m.opts.Settings.ResolveWith)
}

// publish adds a planned task to the job's journal, which files it as
// pending in every view, then queues it. A task the view knows in another
// state than pending (planned again after a crash or a takeover) is not
// queued again; the journal and the queue drop a duplicate by task id.
func (m *Master) publish(ctx context.Context, t plan.Task) error {
	_, state, err := m.tr.Locate(t.Job, t.ID)
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

// filed is the master's part of filing a finished result (the
// tracker's Filed): the active master logs its failed objects, and the
// abort it asks for.
func (m *Master) filed(res protocol.TaskResult) {
	m.endsNudge.poke() // a job may have ended: see watchEnds
	if m.isLeader() {
		m.logFailures(res)
	}
	if res.Abort != "" {
		m.logAbort(res.Job, res.Abort)
	}
}

// idle is the master's part of filing a job's last open task (the
// tracker's Idle): the job may have ended, so watchEnds looks now.
func (m *Master) idle(string) { m.endsNudge.pokeNow() }

// aborted is the master's part of filing a job's abort (the tracker's
// Aborted): the job is no longer planned, and the leader stops it (see
// stopAborted).
func (m *Master) aborted(name, reason string) {
	m.endsNudge.pokeNow() // an abort ends the job: see watchEnds
	m.mu.Lock()
	if p, ok := m.planning[name]; ok {
		p.cancel()
	}
	m.done[name] = true
	m.mu.Unlock()
	if m.isLeader() {
		m.stopAborted(context.Background(), name, reason)
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
	t, err := m.tr.Task(d.Job, d.TaskID)
	if err != nil {
		return nil // a task of a cleaned job, or one the view lost: nothing to fail
	}
	reason := fmt.Sprintf("task failed on %d deliveries: its workers died or kept failing (taskMaxDeliver=%d); see logs/worker.log on the workers, then retry", d.Deliveries, m.opts.Settings.MaxDeliveries)
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
		if err := m.tr.FileAbort(name, reason); err != nil {
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
		if data, err := protocol.EncodeJob(pj); err == nil {
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

// appendResult adds a result the master makes itself (a dead task's
// failure) to the job's journal; msgID makes it once only.
func (m *Master) appendResult(ctx context.Context, res protocol.TaskResult, msgID string) error {
	data, err := protocol.EncodeResult(res)
	if err != nil {
		return err
	}
	return m.opts.Bus.Append(ctx, res.Job, bus.KindResult, res.TaskID, msgID, data)
}
