package tracker

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/workdir"
)

// ErrUnknownTask means a result or progress report names a task the
// working directory does not hold (its job was cleaned, say).
var ErrUnknownTask = errors.New("unknown task")

// Locate finds a task's folder: pending, running on some worker, or
// finished. state is the workdir state folder it is in.
func Locate(dir workdir.Dir, job, id string) (path, state string, err error) {
	for _, s := range []string{workdir.Pending, workdir.Succeed, workdir.Failed} {
		p := dir.Task(job, s, "", id)
		if _, err := os.Stat(p); err == nil {
			return p, s, nil
		}
	}
	for _, worker := range workdir.Subdirs(filepath.Join(dir.Job(job), workdir.Dispatched)) {
		p := dir.Task(job, workdir.Dispatched, worker, id)
		if _, err := os.Stat(p); err == nil {
			return p, workdir.Dispatched, nil
		}
	}
	return "", "", fmt.Errorf("job %s task %s: %w", job, id, ErrUnknownTask)
}

// Dispatch files a pending task under the worker running it. A task
// already running elsewhere (redelivered after its worker died) moves to
// the new worker; a finished one stays where it is.
func Dispatch(dir workdir.Dir, job, id, worker string) error {
	from, state, err := Locate(dir, job, id)
	if err != nil {
		return err
	}
	to := dir.Task(job, workdir.Dispatched, worker, id)
	if state == workdir.Succeed || state == workdir.Failed || from == to {
		return nil
	}
	return workdir.Move(from, to)
}

// Apply records a worker's result of a task and files it under
// succeed_tasks or failed_tasks. It is idempotent: a result for a task
// that already succeeded is ignored, so a redelivered result changes
// nothing. A partial result (res.Partial) is only recorded: the task
// stays where it is.
func Apply(dir workdir.Dir, res protocol.TaskResult) (record.Counters, error) {
	from, state, err := Locate(dir, res.Job, res.TaskID)
	if err != nil {
		return record.Counters{}, err
	}
	if res.Partial {
		return applyPartial(from, state, res)
	}
	if state == workdir.Succeed {
		return record.Counters{}, nil
	}
	w, _, done, err := record.Resume(from)
	if err != nil {
		return record.Counters{}, err
	}
	for _, o := range res.Objects {
		// An object an earlier result already recorded as done or as
		// failed for good (the same result applied again after a crash,
		// or a late result of an earlier delivery) is counted once:
		// Resume carried it.
		if code, ok := done.Finished[o.Object.Key]; ok && (code.OK() || record.Permanent(code)) {
			continue
		}
		if err := w.Add(o.Result()); err != nil {
			_ = w.Suspend() // commits what was added; the rest is added again
			return record.Counters{}, err
		}
	}
	// Close commits the records to disk (record.Writer.Commit) before
	// the caller acknowledges the result.
	c, err := w.Close()
	if err != nil {
		return c, err
	}
	if err := workdir.WriteFile(filepath.Join(from, workdir.WorkerFile), []byte(res.Worker+"\n")); err != nil {
		return c, err
	}
	final := workdir.Succeed
	if c.Failed > 0 {
		final = workdir.Failed
	}
	to := dir.Task(res.Job, final, "", res.TaskID)
	if from == to {
		return c, nil
	}
	return c, workdir.Move(from, to)
}

// FilePlanned records a planned task under pending_tasks unless the
// working directory already holds it (the same task planned again after
// a crash between emitting it and saving the checkpoint). A pending
// folder without its TASK file, left by a crash while it was written, is
// written again. It returns the task's state and whether it was filed
// just now.
func FilePlanned(dir workdir.Dir, t plan.Task) (state string, fresh bool, err error) {
	path, state, err := Locate(dir, t.Job, t.ID)
	switch {
	case errors.Is(err, ErrUnknownTask):
	case err != nil:
		return "", false, err
	case state != workdir.Pending:
		return state, false, nil
	default:
		if _, statErr := os.Stat(filepath.Join(path, workdir.TaskFile)); statErr == nil {
			return state, false, nil
		}
	}
	if err := notePlanned(dir, t); err != nil {
		return "", false, err
	}
	return workdir.Pending, true, record.WriteTask(dir.Task(t.Job, workdir.Pending, "", t.ID), t)
}
