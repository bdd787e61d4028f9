// Package tracker keeps job and task state and the working-directory view
// operators read. ReadStatus computes a job's status from that view alone,
// so `stat` works whether or not the service is running.
package tracker

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// Job states, as ossimport prints them after "JobState:".
const (
	Running = "Running"
	Succeed = "Succeed"
	Failed  = "Failed"
	Abort   = "Abort"
)

// JobStatus is what `stat` shows of one job.
type JobStatus struct {
	Name         string           `json:"name"`
	State        string           `json:"state"`
	Reason       string           `json:"reason,omitempty"` // why a job is Abort
	ScanFinished bool             `json:"scanFinished"`
	Pending      int              `json:"pendingTasks"`
	Dispatched   int              `json:"dispatchedTasks"`
	Succeed      int              `json:"succeedTasks"`
	Failed       int              `json:"failedTasks"`
	Objects      Progress         `json:"objects"`
	Bytes        Progress         `json:"bytes"`
	FailedObjs   int64            `json:"failedObjects"`
	Running      []TaskProgress   `json:"runningTasks,omitempty"`
	FailedTasks  []string         `json:"failedTaskIds,omitempty"`
	ByCode       map[string]int64 `json:"byCode,omitempty"`
	// Throughput is bytes per second since the first task finished, and
	// ETA the time left at that rate; zero when unknown.
	Throughput float64       `json:"bytesPerSecond"`
	ETA        time.Duration `json:"eta"`
}

// Progress is done out of total.
type Progress struct {
	Done  int64 `json:"done"`
	Total int64 `json:"total"`
}

// TaskProgress is one running task, as in ossimport's
// "<task>:<bytesDone>/<bytesTotal> <filesDone>/<filesTotal>".
type TaskProgress struct {
	ID     string   `json:"id"`
	Worker string   `json:"worker"`
	Bytes  Progress `json:"bytes"`
	Files  Progress `json:"files"`
}

// ProgressFile in a dispatched task's folder holds the last progress its
// worker reported (protocol.TaskProgress as JSON).
const ProgressFile = "PROGRESS"

// StateFile holds a job's state when the service set it explicitly
// (Abort with its reason); absent, the state follows from the tasks.
const StateFile = "STATE"

// jobState is the content of StateFile.
type jobState struct {
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
}

// SetState records an explicit job state, e.g. Abort with the reason.
func SetState(dir workdir.Dir, job, state, reason string) error {
	data, err := json.Marshal(jobState{State: state, Reason: reason})
	if err != nil {
		return err
	}
	return workdir.WriteFile(filepath.Join(dir.Job(job), StateFile), data)
}

// Jobs lists the jobs of the working directory, sorted.
func Jobs(dir workdir.Dir) []string {
	return workdir.Subdirs(filepath.Join(string(dir), "master", "jobs"))
}

// ReadStatus computes a job's status from its folder in the working
// directory.
func ReadStatus(dir workdir.Dir, job string) (JobStatus, error) {
	st := JobStatus{Name: job, ByCode: map[string]int64{}}
	if _, err := os.Stat(dir.Job(job)); err != nil {
		return st, fmt.Errorf("job %s: %w (submitted jobs are under %s)", job, err, filepath.Dir(dir.Job(job)))
	}
	cp, err := workdir.LoadCheckpoint(dir.Checkpoint(job))
	if err != nil {
		return st, err
	}
	st.ScanFinished = cp != nil && cp.Done && cp.Round == 0
	first := time.Time{}
	// Tasks move pending -> dispatched -> succeed or failed while the
	// service runs: the folders are listed in that order, and a task seen
	// twice counts in its later state, so a task moving during the reads
	// is never missed (a job is never Succeed with tasks unseen).
	type ref struct{ state, worker string }
	refs := map[string]ref{}
	var ids []string
	see := func(id string, r ref) {
		if _, ok := refs[id]; !ok {
			ids = append(ids, id)
		}
		refs[id] = r
	}
	for _, id := range workdir.Subdirs(filepath.Join(dir.Job(job), workdir.Pending)) {
		see(id, ref{state: workdir.Pending})
	}
	for _, worker := range workdir.Subdirs(filepath.Join(dir.Job(job), workdir.Dispatched)) {
		for _, id := range workdir.Subdirs(filepath.Join(dir.Job(job), workdir.Dispatched, worker)) {
			see(id, ref{state: workdir.Dispatched, worker: worker})
		}
	}
	for _, state := range []string{workdir.Succeed, workdir.Failed} {
		for _, id := range workdir.Subdirs(filepath.Join(dir.Job(job), state)) {
			see(id, ref{state: state})
		}
	}
	add := func(id string, r ref) error {
		tdir := dir.Task(job, r.state, r.worker, id)
		if r.state == workdir.Dispatched {
			return st.addRunning(tdir, r.worker, id)
		}
		return st.addTask(tdir, r.state, &first)
	}
	for _, id := range ids {
		err := add(id, refs[id])
		if errors.Is(err, fs.ErrNotExist) {
			// Moved since it was listed: count it where it is now.
			if path, state, lerr := Locate(dir, job, id); lerr == nil {
				r := ref{state: state}
				if state == workdir.Dispatched {
					r.worker = filepath.Base(filepath.Dir(path))
				}
				err = add(id, r)
			}
		}
		if errors.Is(err, fs.ErrNotExist) {
			// A folder without its TASK file: the service died while
			// writing it; planning writes it again.
			continue
		}
		if err != nil {
			return st, err
		}
	}
	st.State = st.derive()
	if s, ok := readState(dir, job); ok && s.State == Abort {
		st.State, st.Reason = Abort, s.Reason
	}
	st.rate(first)
	return st, nil
}

func readState(dir workdir.Dir, job string) (jobState, bool) {
	var s jobState
	data, err := os.ReadFile(filepath.Join(dir.Job(job), StateFile))
	if err != nil || json.Unmarshal(data, &s) != nil {
		return s, false
	}
	return s, true
}

// derive is the state that follows from the tasks.
func (st *JobStatus) derive() string {
	switch {
	case !st.ScanFinished || st.Pending > 0 || st.Dispatched > 0:
		return Running
	case st.Failed > 0:
		return Failed
	}
	return Succeed
}

// addTask counts a finished or pending task.
func (st *JobStatus) addTask(tdir, state string, first *time.Time) error {
	t, err := record.ReadTask(tdir)
	if err != nil {
		return err
	}
	st.Objects.Total += int64(len(t.Objects))
	st.Bytes.Total += t.Bytes
	switch state {
	case workdir.Pending:
		st.Pending++
		return nil
	case workdir.Succeed:
		st.Succeed++
	case workdir.Failed:
		st.Failed++
		st.FailedTasks = append(st.FailedTasks, t.ID)
	}
	var c record.Counters
	if data, err := os.ReadFile(filepath.Join(tdir, record.DoneFile)); err == nil && len(data) > 0 {
		_ = json.Unmarshal(data, &c)
	} else {
		c = countProgress(tdir, t.Objects)
	}
	st.Objects.Done += c.Done()
	st.Bytes.Done += c.CopiedBytes + c.SkippedBytes
	st.FailedObjs += c.Failed
	for code, n := range c.ByCode {
		st.ByCode[string(code)] += n
	}
	if info, err := os.Stat(filepath.Join(tdir, record.StatusFile)); err == nil && (first.IsZero() || info.ModTime().Before(*first)) {
		*first = info.ModTime()
	}
	return nil
}

// countProgress rebuilds a failed task's counters from its progress.
func countProgress(tdir string, objs []transfer.Object) record.Counters {
	var c record.Counters
	p, _ := record.ReadProgress(tdir)
	for _, o := range objs {
		if code, ok := p.Finished[o.Key]; ok {
			c.Add(transfer.Result{Object: o, Code: code, Size: max(o.Size, 0)})
		}
	}
	return c
}

// addRunning counts a dispatched task and its progress so far.
func (st *JobStatus) addRunning(tdir, worker, id string) error {
	t, err := record.ReadTask(tdir)
	if err != nil {
		return err
	}
	st.Dispatched++
	tp := TaskProgress{ID: id, Worker: worker, Files: Progress{Total: int64(len(t.Objects))}, Bytes: Progress{Total: t.Bytes}}
	var reported protocol.TaskProgress
	if data, err := os.ReadFile(filepath.Join(tdir, ProgressFile)); err == nil && json.Unmarshal(data, &reported) == nil {
		tp.Files.Done, tp.Bytes.Done = reported.FilesDone, reported.BytesDone
	} else {
		p, _ := record.ReadProgress(tdir)
		for _, o := range t.Objects {
			if code, ok := p.Finished[o.Key]; ok {
				tp.Files.Done++
				if code.OK() {
					tp.Bytes.Done += max(o.Size, 0)
				}
			}
		}
	}
	st.Objects.Total += tp.Files.Total
	st.Bytes.Total += tp.Bytes.Total
	st.Objects.Done += tp.Files.Done
	st.Bytes.Done += tp.Bytes.Done
	st.Running = append(st.Running, tp)
	return nil
}

// rate estimates throughput and ETA from the bytes done since the first
// task finished.
func (st *JobStatus) rate(first time.Time) {
	if first.IsZero() || st.State != Running {
		return
	}
	elapsed := time.Since(first).Seconds()
	if elapsed < 1 || st.Bytes.Done == 0 {
		return
	}
	st.Throughput = float64(st.Bytes.Done) / elapsed
	if left := st.Bytes.Total - st.Bytes.Done; left > 0 {
		st.ETA = time.Duration(float64(left) / st.Throughput * float64(time.Second)).Round(time.Second)
	}
}
