package master

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/workdir"
)

// A lost NATS store (workdir/nats deleted while the service was stopped,
// or natsUrl pointed at a new cluster) loses the job specs, the scan
// checkpoints, the queue and the journal, while the working-directory
// view keeps what they said. The view notices it by its journal marker:
// the journal stream it followed is not the one there now. The next
// active master then restores, from the view, every job whose spec is
// missing: the spec from the kept job file, the scan checkpoint from the
// view's copy, and the unfinished tasks, journaled again and queued.
// Finished tasks stay finished and are not copied again.

// LostFile in the view's master folder marks a restore to do
// (workdir.LostFile).
const LostFile = workdir.LostFile

// RestoreReport says what a restore of one job did.
type RestoreReport struct {
	Job string
	// Queued are the unfinished tasks (pending or running when the store
	// was lost) queued again; Retried the failed tasks queued again (only
	// for a job that had not ended); Finished the tasks kept as they are.
	Queued, Retried, Finished int
	// Checkpoint is whether the scan checkpoint came back from the view.
	Checkpoint bool
	// From is the job file the spec was read from.
	From string
}

// restoreLost restores, after a lost NATS store, every job of the view
// whose spec is missing. The active master calls it when it takes over,
// before anything is planned or queued.
func (m *Master) restoreLost(ctx context.Context) {
	lost, err := m.tr.StoreLost(ctx)
	if err != nil {
		m.log.Warn("cannot tell whether the NATS store was lost", "err", err)
		return
	}
	if !lost {
		return
	}
	jobs := tracker.Jobs(m.opts.Dir)
	m.log.Warn("the NATS store was lost (its journal is not the one this working directory was filed from): "+
		"job specs, scan checkpoints, queued tasks and multipart upload records are restored from the working directory",
		"jobs", len(jobs))
	failed := false
	for _, name := range jobs {
		r, err := m.restoreJob(ctx, name)
		if err != nil {
			failed = true
			if ctx.Err() != nil {
				return
			}
			m.log.Error("cannot restore the job after the NATS store was lost; it is tried again at the next start", "job", name, "err", err)
			m.jlog.Error("cannot restore the job after the NATS store was lost", "job", name, "err", err)
			continue
		}
		attrs := []any{"job", name, "from", r.From, "queued", r.Queued, "retried", r.Retried, "finished", r.Finished, "checkpoint", r.Checkpoint}
		m.log.Info("job restored from the working directory after the NATS store was lost", attrs...)
		m.jlog.Info("job restored from the working directory after the NATS store was lost", attrs...)
	}
	if !failed {
		if err := m.tr.RestoreDone(); err != nil {
			m.log.Warn("cannot record that the restore is done", "err", err)
		}
	}
}

// restoreJob restores one job of the view: its spec when missing, its
// scan checkpoint, then its unfinished tasks. The spec comes first: a
// worker fails a task of a job it cannot find. A job whose spec is there
// (restored by a restore that was interrupted) has its tasks queued
// again all the same: journal and queue drop what they already hold.
func (m *Master) restoreJob(ctx context.Context, name string) (RestoreReport, error) {
	var r RestoreReport
	_, err := m.opts.Bus.Jobs().Get(ctx, name)
	missing := errors.Is(err, bus.ErrNotFound)
	if err != nil && !missing {
		return r, err
	}
	st, err := tracker.ReadStatus(m.opts.Dir, name)
	if err != nil {
		return r, fmt.Errorf("read the job's status: %w", err)
	}
	if data, err := os.ReadFile(m.opts.Dir.Checkpoint(name)); err == nil {
		if _, err := m.opts.Bus.Checkpoints().Get(ctx, name); errors.Is(err, bus.ErrNotFound) {
			if err := m.opts.Bus.Checkpoints().Put(ctx, name, data); err != nil {
				return r, fmt.Errorf("restore the scan checkpoint: %w", err)
			}
			r.Checkpoint = true
		}
	}
	if missing {
		cfg, sub, err := m.keptJob(name)
		if err != nil {
			return r, err
		}
		r.From = sub.File
		pj := protocol.Job{Name: name, Config: cfg, File: sub.File, Submitted: sub.Submitted}
		if st.State == tracker.Abort {
			pj.State, pj.Reason = tracker.Abort, st.Reason
		}
		data, err := protocol.EncodeJob(pj)
		if err != nil {
			return r, err
		}
		if err := m.opts.Bus.CreateJob(ctx, name, data); err != nil && !errors.Is(err, bus.ErrJobExists) {
			return r, fmt.Errorf("restore the job's spec: %w", err)
		}
	}
	if st.State != tracker.Abort {
		if err := m.restoreTasks(ctx, name, st.Ended(), &r); err != nil {
			return r, err
		}
	}
	r.Job = name
	return r, nil
}

// restoreTasks journals and queues again a job's unfinished tasks (and,
// when the job had not ended, its failed tasks that a retry can copy);
// finished tasks are counted and left alone.
func (m *Master) restoreTasks(ctx context.Context, name string, ended bool, r *RestoreReport) error {
	return m.restoreListed(ctx, name, m.taskRefs(name, r), ended, r)
}

// restoreListed restores the listed task folders of a job one by one.
func (m *Master) restoreListed(ctx context.Context, name string, refs []taskRef, ended bool, r *RestoreReport) error {
	for _, t := range refs {
		err := m.restoreTask(ctx, name, t, ended, r)
		if errors.Is(err, fs.ErrNotExist) && m.movedAway(name, t) {
			// Filed into another state since the folders were listed
			// (the job, resubmitted, runs while it is restored): the
			// queue or the view has it there.
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// taskRef names a task folder of the view.
type taskRef struct{ state, worker, id string }

// taskRefs lists a job's pending, dispatched and failed task folders,
// and counts its succeeded ones as finished.
func (m *Master) taskRefs(name string, r *RestoreReport) []taskRef {
	jdir := m.opts.Dir.Job(name)
	var refs []taskRef
	for _, id := range workdir.Subdirs(filepath.Join(jdir, workdir.Pending)) {
		refs = append(refs, taskRef{workdir.Pending, "", id})
	}
	for _, w := range workdir.Subdirs(filepath.Join(jdir, workdir.Dispatched)) {
		for _, id := range workdir.Subdirs(filepath.Join(jdir, workdir.Dispatched, w)) {
			refs = append(refs, taskRef{workdir.Dispatched, w, id})
		}
	}
	for _, id := range workdir.Subdirs(filepath.Join(jdir, workdir.Failed)) {
		refs = append(refs, taskRef{workdir.Failed, "", id})
	}
	r.Finished = len(workdir.Subdirs(filepath.Join(jdir, workdir.Succeed)))
	return refs
}

// movedAway reports whether a listed task folder is gone as a whole: the
// tracker renamed it into another state. A folder still there with a
// file missing is damage, not a move.
func (m *Master) movedAway(name string, t taskRef) bool {
	_, err := os.Stat(m.opts.Dir.Task(name, t.state, t.worker, t.id))
	return errors.Is(err, fs.ErrNotExist)
}

// restoreTask journals one listed task and queues it again when it is
// unfinished, or failed and retryable in a job that had not ended.
func (m *Master) restoreTask(ctx context.Context, name string, t taskRef, ended bool, r *RestoreReport) error {
	path := m.opts.Dir.Task(name, t.state, t.worker, t.id)
	task, err := record.ReadTask(path)
	if err != nil {
		return fmt.Errorf("task %s in %s: %w", t.id, t.state, err)
	}
	data, err := json.Marshal(task)
	if err != nil {
		return err
	}
	// Journaled as planned (the view has it already: filing it
	// changes nothing), so the new journal knows the task.
	if err := m.opts.Bus.Append(ctx, name, bus.KindPlanned, t.id, t.id, data); err != nil {
		return err
	}
	if t.state == workdir.Failed {
		if ended {
			r.Finished++
			return nil // the retry verb queues it
		}
		retryable, perm, err := record.Failures(path)
		if err != nil {
			return err
		}
		if retryable == 0 && len(perm) > 0 {
			r.Finished++
			return nil
		}
		if err := m.requeue(ctx, name, t.id); err != nil {
			return err
		}
		r.Retried++
		return nil
	}
	if err := m.queueAgain(ctx, path, task); err != nil {
		return err
	}
	r.Queued++
	return nil
}

// queueAgain queues a pending or running task of the view with the
// objects its progress does not hold as finished.
func (m *Master) queueAgain(ctx context.Context, path string, t plan.Task) error {
	p, err := record.ReadFinished(path)
	if err != nil {
		return fmt.Errorf("read the progress of task %s: %w", path, err)
	}
	t.Objects, _ = p.Resume(t.Objects)
	data, err := json.Marshal(t)
	if err != nil {
		return err
	}
	if attempt := tracker.Retries(path); attempt > 0 {
		return m.opts.Bus.RetryTask(ctx, t.Job, t.ID, attempt, data)
	}
	return m.opts.Bus.PublishTask(ctx, t.Job, t.ID, data)
}

// maskedValue finds a secret the view's job file holds masked.
var maskedValue = regexp.MustCompile(`(?m)^[ \t]*[A-Za-z0-9_.\-]+[ \t]*[=:][ \t]*\*\*\*\*[ \t]*\r?$`)

// keptJob returns the job file a restore submits again: the file the
// job was submitted from when it still holds the job the view kept (the
// view's copy with its secrets masked), else the view's copy when it has
// no masked secret.
func (m *Master) keptJob(name string) ([]byte, tracker.Submission, error) {
	sub := tracker.ReadSubmission(m.opts.Dir, name)
	kept, err := os.ReadFile(m.opts.Dir.JobFile(name))
	if err != nil {
		return nil, sub, fmt.Errorf("the job file kept in the working directory is missing: %w", err)
	}
	if sub.Submitted.IsZero() {
		if info, err := os.Stat(m.opts.Dir.JobFile(name)); err == nil {
			sub.Submitted = info.ModTime()
		}
	}
	if sub.File != "" {
		if orig, err := os.ReadFile(sub.File); err == nil && bytes.Equal(config.MaskJobFile(orig), kept) {
			return orig, sub, nil
		}
	}
	if maskedValue.Match(kept) {
		where := "the file it was submitted from is not known"
		if sub.File != "" {
			where = sub.File + ", where it was submitted from, is missing or was changed"
		}
		return nil, sub, fmt.Errorf("the working directory keeps the job file %s with its secrets masked and %s: "+
			"put the job file back there, or clean the job and submit it again", m.opts.Dir.JobFile(name), where)
	}
	sub.File = m.opts.Dir.JobFile(name)
	return kept, sub, nil
}
