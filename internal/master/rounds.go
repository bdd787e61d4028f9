package master

import (
	"context"
	"fmt"
	"time"

	"github.com/ossimport/ossimport/internal/job"
	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/summary"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/transfer"
)

// plan scans a job's source into the task queue, resuming its
// checkpoint. An incremental job then rescans every interval after the
// end of the previous round's scan, planning only objects new or changed
// at the destination, until ctx ends; its round survives restarts in the
// checkpoint.
func (m *Master) plan(ctx context.Context, spec *job.Spec) error {
	src, err := storage.OpenSource(ctx, spec.Source)
	if err != nil {
		return fmt.Errorf("open source: %w", err)
	}
	cp, err := m.loadCheckpoint(ctx, spec.Name)
	if err != nil {
		return err
	}
	if cp == nil {
		m.jlog.Info("job started", "job", spec.Name, "source", src.String(), "incremental", spec.Incremental)
	}
	var changed func(context.Context, storage.ObjectInfo, string) bool
	for {
		opts := spec.Plan
		if cp != nil && cp.Done {
			if !spec.Incremental {
				return nil
			}
			next := time.UnixMilli(cp.Finished).Add(spec.Interval)
			m.jlog.Info("next incremental round", "job", spec.Name, "round", cp.Round+1, "at", next.Format(time.DateTime))
			if transfer.Sleep(ctx, time.Until(next)) != nil {
				return nil
			}
			cp = &plan.Checkpoint{Round: cp.Round + 1}
		}
		if cp != nil && cp.Round > 0 {
			if changed == nil {
				if changed, err = m.changed(ctx, spec); err != nil {
					return err
				}
			}
			opts.Round, opts.Since, opts.Changed = cp.Round, time.Time{}, changed
			if cp.Job == "" {
				cp = nil // a new round: the planner starts it
			}
			m.jlog.Info("incremental round started", "job", spec.Name, "round", opts.Round)
		}
		if cp, err = m.scan(ctx, spec, src, opts, cp); err != nil {
			return err
		}
	}
}

// changed returns the incremental rounds' filter: an object is planned
// when its destination copy is missing or differs in size or source
// modification time (importSince no longer applies).
func (m *Master) changed(ctx context.Context, spec *job.Spec) (func(context.Context, storage.ObjectInfo, string) bool, error) {
	src, dst, err := job.Open(ctx, spec)
	if err != nil {
		return nil, err
	}
	c, err := transfer.New(dst, src, spec.Transfer)
	if err != nil {
		return nil, err
	}
	return c.Changed, nil
}

// scan runs one scan round to its end and returns its final checkpoint.
func (m *Master) scan(ctx context.Context, spec *job.Spec, src storage.Source, opts plan.Options, cp *plan.Checkpoint) (*plan.Checkpoint, error) {
	emit := func(ctx context.Context, t plan.Task) error { return m.publish(ctx, t) }
	save := func(ctx context.Context, cp *plan.Checkpoint) error {
		m.opts.Metrics.ScanListed(spec.Name, cp.Stats.Listed)
		return m.saveCheckpoint(ctx, spec.Name, cp)
	}
	p, err := plan.New(src, opts, emit, save)
	if err != nil {
		return nil, err
	}
	m.log.Info("planning", "job", spec.Name, "source", src.String(), "round", opts.Round)
	final, err := p.Run(ctx, cp)
	if err != nil {
		return nil, fmt.Errorf("plan job %s: %w", spec.Name, err)
	}
	m.log.Info("scan finished", "job", spec.Name, "round", final.Round, "tasks", final.Stats.Tasks, "objects", final.Stats.Planned)
	m.jlog.Info("scan finished", "job", spec.Name, "round", final.Round, "listed", final.Stats.Listed,
		"tasks", final.Stats.Tasks, "objects", final.Stats.Planned, "bytes", final.Stats.Bytes)
	return final, nil
}

// Reclaim hands back at once every task a killed predecessor of this
// process had running, instead of after the queue's ack deadline. Only
// for a service alone on its embedded server (standalone, or `run`),
// before its worker starts: no other worker can hold those tasks.
func (m *Master) Reclaim(ctx context.Context) error {
	names, err := m.opts.Bus.Jobs().Keys(ctx)
	if err != nil {
		return err
	}
	for _, name := range names {
		if err := m.opts.Bus.Redeliver(ctx, name); err != nil {
			return err
		}
	}
	return nil
}

// watchEnds writes a job's final state to the job log when it reaches
// one (and again after a retry ends).
// Jobs already ended when the master starts are not logged again.
func (m *Master) watchEnds(ctx context.Context) error {
	t := time.NewTicker(m.opts.Poll)
	defer t.Stop()
	for first := true; ; first = false {
		looked := time.Now()
		for _, name := range tracker.Jobs(m.opts.Dir) {
			if st, err := tracker.ReadStatus(m.opts.Dir, name); err == nil {
				m.logEnd(ctx, st, first)
			}
		}
		if ctx.Err() != nil {
			return nil // after a last look: `run` stops as its job ends
		}
		m.endsNudge.wait(ctx, t.C, looked) // ctx's end: one last look
	}
}

// logEnd logs a job's final state once per time it is reached; quiet
// only records it.
func (m *Master) logEnd(ctx context.Context, st tracker.JobStatus, quiet bool) {
	final := ""
	if st.Ended() {
		final = st.State
	}
	m.mu.Lock()
	last := m.ended[st.Name]
	m.ended[st.Name] = final
	m.mu.Unlock()
	if quiet || final == "" || final == last {
		return
	}
	defer m.seeEnd()
	if !m.isLeader() {
		return // the active master writes import.log's job lines
	}
	// The end is also when no copy can still finish an upload that no
	// record names (the service may be stopping: the sweep still runs).
	if n, err := m.sweepUploads(context.WithoutCancel(ctx), st.Name); err != nil {
		m.log.Warn("cannot look for unfinished multipart uploads at the destination; clean aborts the recorded ones", "job", st.Name, "err", err)
	} else if n > 0 {
		m.log.Warn("aborted unfinished multipart uploads an interrupted copy left", "job", st.Name, "uploads", n)
	}
	m.jlog.Info("job finished", summary.Of(m.opts.Dir, st).Attrs()...)
}

// EndSeen returns a channel closed when this master next sees a job
// reach a final state (after the active master's "job finished" line),
// so that a caller waiting for a job's end (run) learns it at once
// rather than at its next look. Take the channel before reading the
// status, so that an end between the two is not missed.
func (m *Master) EndSeen() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.endSeen
}

// seeEnd wakes EndSeen's waiters.
func (m *Master) seeEnd() {
	m.mu.Lock()
	defer m.mu.Unlock()
	close(m.endSeen)
	m.endSeen = make(chan struct{})
}

// logFailures writes a result's failed objects to the job log.
func (m *Master) logFailures(res protocol.TaskResult) {
	for _, o := range res.Objects {
		if !o.Code.OK() {
			m.jlog.Warn("object failed", "job", res.Job, "task", res.TaskID, "key", o.Object.Key, "code", o.Code, "detail", o.Detail)
		}
	}
}

// RetryFailed queues a job's failed tasks again with only their failed
// objects (the retry verb's work, for `run` run again after failures)
// and returns how many it queued.
func (m *Master) RetryFailed(ctx context.Context, job string) (int, error) {
	r, err := m.retry(ctx, job)
	return r.Count, err
}
