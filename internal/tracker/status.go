// Package tracker is the tracker role and the working-directory view it
// keeps: every service runs a Tracker (tracker.go) that files the jobs'
// journals, the workers' progress and heartbeats into the view and keeps
// the jobs' counters (Ledger); the folder operations it files with
// (Apply, FilePlanned, Dispatch, Repair...) are exported for the master
// and the console. ReadStatus computes a job's status from that view
// alone, so `stat` works whether or not the service is running.
package tracker

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ossimport/ossimport/internal/plan"
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
	// Throughput is the bytes per second the master measured over the
	// last RateWindow: the copy rate (bytes of objects copied, finished
	// or in flight; skipped objects are not copied), and ETA the time
	// left at that rate; zero when unknown or the job is not running.
	Throughput float64       `json:"bytesPerSecond"`
	ETA        time.Duration `json:"eta"`
	// Counters add up the finished objects' results (Objects and Bytes
	// are the job's planned totals); in-flight objects are not in them.
	Counters record.Counters `json:"counters"`

	// Retrying counts the pending tasks queued again after a failed
	// attempt: the job waits on their retries.
	Retrying int `json:"retryingTasks,omitempty"`
	// Incremental jobs rescan their source every interval and never end.
	// Round is the current round (0: the full pass), RoundEnded when its
	// scan ended (zero while it scans) and NextRound when the next one
	// starts.
	Incremental bool      `json:"incremental,omitempty"`
	Round       int       `json:"round,omitempty"`
	RoundEnded  time.Time `json:"roundEnded,omitzero"`
	NextRound   time.Time `json:"nextRound,omitzero"`
	// Master is the active master when one runs; NoMasterSince, on a job
	// not ended, is when a master last ran it (none does now). Stat fills
	// them in from the view's record of the master lease.
	Master        string    `json:"master,omitempty"`
	NoMasterSince time.Time `json:"noMasterSince,omitzero"`
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
	// Copied is the bytes copied so far (objects copied and in flight,
	// not skipped ones): what the job's copy rate is measured on.
	Copied int64 `json:"copiedBytes,omitempty"`
}

// workdir.ProgressFile in a dispatched task's folder holds the last
// progress its worker reported (protocol.TaskProgress as JSON).

// workdir.StateFile holds a job's state when the service set it explicitly
// (Abort with its reason); absent, the state follows from the tasks.

// jobState is the content of workdir.StateFile.
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
	return workdir.WriteFile(filepath.Join(dir.Job(job), workdir.StateFile), data)
}

// Jobs lists the jobs of the working directory, sorted.
func Jobs(dir workdir.Dir) []string {
	return workdir.Subdirs(dir.Jobs())
}

// ReadStatus returns a job's status. It reads the job's counters file
// (the Ledger the tracker keeps), its checkpoint and its STATE file: a
// constant time whatever the job's size. Only a job without a counters
// file (the service never ran since it was submitted) is counted from
// its task folders, reading every task.
func ReadStatus(dir workdir.Dir, job string) (JobStatus, error) {
	st := JobStatus{Name: job, ByCode: map[string]int64{}}
	if _, err := os.Stat(dir.Job(job)); err != nil {
		return st, fmt.Errorf("job %s: %w (submitted jobs are under %s)", job, err, filepath.Dir(dir.Job(job)))
	}
	cp, err := workdir.LoadCheckpoint(dir.Checkpoint(job))
	if err != nil {
		return st, err
	}
	doc, kept := ReadCounters(dir, job)
	if !kept {
		t, running, err := Scan(dir, job)
		if err != nil {
			return st, err
		}
		doc = CountersDoc{Tally: t, Running: running}
	}
	st.fill(doc)
	if st.Failed > 0 {
		st.FailedTasks = failedTasks(dir, job)
	}
	st.ScanFinished = cp != nil && cp.Done && cp.Round == 0 && !doc.Incremental
	st.State = st.derive()
	if kept && st.ScanFinished && doc.tasks() < cp.Stats.Tasks {
		// The scan's last tasks are filed but not yet in the counters
		// file (written at most every FlushEvery): not over yet.
		st.State = Running
	}
	st.damaged(doc.Tally, cp, kept)
	if doc.Incremental {
		st.incremental(cp, time.Duration(doc.IntervalSeconds)*time.Second)
	}
	if s, ok := readState(dir, job); ok && s.State == Abort {
		st.State, st.Reason = Abort, s.Reason
	}
	if kept && !doc.Clean {
		st.rate(doc.BytesPerSecond)
	}
	return st, nil
}

// fill sets the counts, totals and running tasks from a counters
// document; the failed tasks are listed from failed_tasks.
func (st *JobStatus) fill(doc CountersDoc) {
	t := doc.Tally
	st.Pending, st.Dispatched, st.Succeed, st.Failed = t.Pending, t.Dispatched, t.Succeed, t.Failed
	st.Retrying = min(max(t.Retrying, 0), t.Pending) // a file of an earlier version counted none
	st.Objects = Progress{Done: t.Finished.Done(), Total: t.Objects}
	st.Bytes = Progress{Done: t.Finished.CopiedBytes + t.Finished.SkippedBytes, Total: t.Bytes}
	st.FailedObjs = t.Finished.Failed
	st.Counters = t.Finished
	st.Counters.Objects, st.Counters.Bytes = t.Objects, t.Bytes
	st.Counters.ByCode = nil
	for code, n := range t.Finished.ByCode {
		if st.Counters.ByCode == nil {
			st.Counters.ByCode = map[transfer.Code]int64{}
		}
		st.Counters.ByCode[code] = n
		st.ByCode[string(code)] = n
	}
	for _, tp := range doc.Running {
		st.Objects.Done += tp.Files.Done
		st.Bytes.Done += tp.Bytes.Done
		st.Running = append(st.Running, tp)
	}
}

// failedTasks lists the ids of a job's failed tasks.
func failedTasks(dir workdir.Dir, job string) []string {
	return workdir.Subdirs(filepath.Join(dir.Job(job), workdir.Failed))
}

// incremental sets the round fields of an incremental job: RoundEnded is
// when the scan of the current round ended (zero while it scans), and
// NextRound that plus the interval.
func (st *JobStatus) incremental(cp *plan.Checkpoint, interval time.Duration) {
	st.Incremental = true
	if cp == nil {
		return
	}
	st.Round = cp.Round
	if cp.Done && cp.Finished > 0 {
		st.RoundEnded = time.UnixMilli(cp.Finished)
		if interval > 0 {
			st.NextRound = st.RoundEnded.Add(interval)
		}
	}
}

func readState(dir workdir.Dir, job string) (jobState, bool) {
	var s jobState
	data, err := os.ReadFile(filepath.Join(dir.Job(job), workdir.StateFile))
	if err != nil || json.Unmarshal(data, &s) != nil {
		return s, false
	}
	return s, true
}

// Ended reports whether the job reached a final state: Succeed, Failed
// or Abort. An incremental job ends only by an abort.
func (st JobStatus) Ended() bool {
	switch {
	case st.State == Abort:
		return true
	case st.Incremental:
		return false
	}
	return st.State == Succeed || st.State == Failed
}

// derive is the state that follows from the tasks. An incremental job
// never ends by itself.
func (st *JobStatus) derive() string {
	switch {
	case st.Incremental || !st.ScanFinished || st.Pending > 0 || st.Dispatched > 0:
		return Running
	case st.Failed > 0:
		return Failed
	}
	return Succeed
}

// rate sets the throughput the master measured over its sliding window
// and the ETA at that rate, for a running job.
func (st *JobStatus) rate(bytesPerSecond float64) {
	if st.State != Running || bytesPerSecond <= 0 {
		return
	}
	st.Throughput = bytesPerSecond
	if left := st.Bytes.Total - st.Bytes.Done; left > 0 {
		st.ETA = time.Duration(float64(left) / bytesPerSecond * float64(time.Second)).Round(time.Second)
	}
}
