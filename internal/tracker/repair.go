package tracker

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/workdir"
)

// workdir.PlannedFile in a job's folder is the plan log: one JSON line per
// task planned (the TASK file's content), appended before the task's
// folder is written. It is the copy a task folder whose TASK file was lost
// or damaged is restored from (Repair), so that a damaged working
// directory never drops planned objects.

// notePlanned appends t to the job's plan log.
func notePlanned(dir workdir.Dir, t plan.Task) error {
	data, err := t.MarshalJSON() // plan.Task encodes itself: no reflection, no second pass
	if err != nil {
		return fmt.Errorf("encode task %s: %w", t.ID, err)
	}
	path := filepath.Join(dir.Job(t.Job), workdir.PlannedFile)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("plan log: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("plan log: %w", err)
	}
	_, werr := f.Write(append(data, '\n'))
	if err := errors.Join(werr, f.Close()); err != nil {
		return fmt.Errorf("plan log: %w", err)
	}
	return nil
}

// readPlanned reads a job's plan log by task id; a torn line (a crash
// while it was appended: its task is planned again) is skipped.
func readPlanned(dir workdir.Dir, job string) (map[string]plan.Task, error) {
	tasks := map[string]plan.Task{}
	err := workdir.EachJSONLine(filepath.Join(dir.Job(job), workdir.PlannedFile), 256<<20, func(t plan.Task) {
		if t.ID != "" {
			tasks[t.ID] = t
		}
	})
	if err != nil {
		return nil, fmt.Errorf("plan log of job %s: %w", job, err)
	}
	return tasks, nil
}

// Damage is a task folder found damaged: its TASK file unreadable or
// missing, or the whole folder gone.
type Damage struct {
	Task    string
	Path    string // the task folder (where it was restored, for a lost one)
	Problem string
	// Restored says the TASK file was written again from the plan log;
	// Requeue that the task was lost and restored as pending, so it must
	// be queued again.
	Restored, Requeue bool
}

func (d Damage) String() string {
	switch {
	case d.Requeue:
		return fmt.Sprintf("task %s: %s; restored from the plan log as pending at %s", d.Task, d.Problem, d.Path)
	case d.Restored:
		return fmt.Sprintf("task file %s: %s; restored from the plan log", filepath.Join(d.Path, workdir.TaskFile), d.Problem)
	}
	return fmt.Sprintf("task file %s: %s; the plan log has no copy (run clean and submit the job again to copy its objects)", filepath.Join(d.Path, workdir.TaskFile), d.Problem)
}

// Repair restores a job's damaged task folders from its plan log: a
// TASK file that is unreadable or missing is written again where it is
// (its progress, audit log and state are kept, so finished objects stay
// finished), and a folder that disappeared is recreated under
// pending_tasks, to be queued again (the tasks returned). A damaged task
// the plan log has no copy of is reported, not restored. When anything
// was restored the job's counters file is removed, so the Ledger rebuilds
// it. Call it before the tracker files anything (at start).
func Repair(dir workdir.Dir, job string) ([]Damage, []plan.Task, error) {
	planned, err := readPlanned(dir, job)
	if err != nil {
		return nil, nil, err
	}
	var damages []Damage
	var requeue []plan.Task
	seen := map[string]bool{}
	ids := make([]string, 0, len(planned))
	for id := range planned {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		t := planned[id]
		seen[id] = true
		path, _, err := Locate(dir, job, id)
		if errors.Is(err, ErrUnknownTask) {
			path = dir.Task(job, workdir.Pending, "", id)
			if err := record.WriteTask(path, t); err != nil {
				return damages, requeue, err
			}
			damages = append(damages, Damage{Task: id, Path: path, Problem: "task folder missing", Restored: true, Requeue: true})
			requeue = append(requeue, t)
			continue
		}
		if err != nil {
			return damages, requeue, err
		}
		if _, rerr := record.ReadTask(path); rerr != nil {
			if err := record.WriteTask(path, t); err != nil {
				return damages, requeue, err
			}
			damages = append(damages, Damage{Task: id, Path: path, Problem: problem(rerr), Restored: true})
		}
	}
	for _, d := range damagedFolders(dir, job) {
		if !seen[d.Task] {
			damages = append(damages, d)
		}
	}
	restored := false
	for _, d := range damages {
		restored = restored || d.Restored
	}
	if restored {
		if err := os.Remove(filepath.Join(dir.Job(job), workdir.CountersFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return damages, requeue, fmt.Errorf("repair job %s: %w", job, err)
		}
	}
	return damages, requeue, nil
}

// problem says what is wrong with a TASK file.
func problem(err error) string {
	if errors.Is(err, os.ErrNotExist) {
		return "TASK file missing"
	}
	return "TASK file unreadable (" + err.Error() + ")"
}

// damagedFolders lists a job's task folders whose TASK file cannot be
// read.
func damagedFolders(dir workdir.Dir, job string) []Damage {
	var out []Damage
	check := func(path, id string) {
		if _, err := record.ReadTask(path); err != nil && !halfFiled(stateOf(dir, job, path), err) {
			out = append(out, Damage{Task: id, Path: path, Problem: problem(err)})
		}
	}
	for _, state := range []string{workdir.Pending, workdir.Succeed, workdir.Failed} {
		for _, id := range workdir.Subdirs(filepath.Join(dir.Job(job), state)) {
			check(dir.Task(job, state, "", id), id)
		}
	}
	for _, worker := range workdir.Subdirs(filepath.Join(dir.Job(job), workdir.Dispatched)) {
		for _, id := range workdir.Subdirs(filepath.Join(dir.Job(job), workdir.Dispatched, worker)) {
			check(dir.Task(job, workdir.Dispatched, worker, id), id)
		}
	}
	return out
}

// stateOf is the state folder of a task folder path of job.
func stateOf(dir workdir.Dir, job, path string) string {
	rel, err := filepath.Rel(dir.Job(job), path)
	if err != nil {
		return ""
	}
	return strings.SplitN(filepath.ToSlash(rel), "/", 2)[0]
}
