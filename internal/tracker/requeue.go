package tracker

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/workdir"
)

// ApplyRequeue files a failed task's retry attempt in the view: the task
// moves back to pending_tasks, keeping its progress, and the job's
// explicit state goes. It returns the task as the retry runs it. An
// attempt the view already filed, or a task no longer failed, is left as
// it is: the task comes back as still pending, or empty when it runs or
// ended meanwhile.
func ApplyRequeue(dir workdir.Dir, job, id string, attempt int) (plan.Task, error) {
	path, state, err := Locate(dir, job, id)
	if err != nil {
		return plan.Task{}, err
	}
	if state != workdir.Failed || Retries(path) >= attempt {
		t, _, err := QueuedTask(dir, job, id)
		if errors.Is(err, ErrUnknownTask) {
			err = nil
		}
		return t, err
	}
	if err := SetRetries(path, attempt); err != nil {
		return plan.Task{}, err
	}
	if err := os.Remove(filepath.Join(dir.Job(job), workdir.StateFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return plan.Task{}, err
	}
	return record.Requeue(path, dir.Task(job, workdir.Pending, "", id))
}

// RebuildCounters rewrites a job's counters file from its task folders,
// without the clean mark (only a tracker stopping gracefully sets it).
func RebuildCounters(dir workdir.Dir, job string) error {
	old, _ := ReadCounters(dir, job)
	t, running, err := Scan(dir, job)
	if err != nil {
		_ = os.Remove(filepath.Join(dir.Job(job), workdir.CountersFile))
		return fmt.Errorf("rebuild the counters of job %s: %w", job, err)
	}
	doc := CountersDoc{Version: CountersVersion, Written: time.Now(), Tally: t, Running: running,
		Incremental: old.Incremental, IntervalSeconds: old.IntervalSeconds}
	data, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	if err := workdir.WriteFile(filepath.Join(dir.Job(job), workdir.CountersFile), data); err != nil {
		return fmt.Errorf("write the counters of job %s: %w", job, err)
	}
	return nil
}
