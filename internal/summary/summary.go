// Package summary adds up a job's numbers once for every place that
// shows them: `run`'s closing summary, import.log's "job finished" (and
// "run interrupted", "run resumed") lines, `stat --json` ("summary") and
// the checks against the reports (internal/report). Everything comes from
// the working directory:
//
//   - the job's counters (tracker.ReadStatus: the master's ledger, one
//     small file) for the planned totals, the task counts and the
//     finished tasks' results;
//   - the recorded progress of the tasks filed as dispatched (running, or
//     handed back by a run that was interrupted): the objects they
//     finished before they stopped, which the reports already hold;
//   - the scan's checkpoint for the objects listed and excluded by the
//     job's filters.
//
// The numbers add up: Copied + Skipped + Failed + Verified + Unfinished
// = Planned (objects).
package summary

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// Count is a number of objects and their bytes.
type Count struct {
	Objects int64 `json:"objects"`
	Bytes   int64 `json:"bytes"`
}

// Tasks counts a job's tasks by state.
type Tasks struct {
	Planned int `json:"planned"`
	Succeed int `json:"succeed"`
	Failed  int `json:"failed"`
	// Running are the tasks filed as dispatched: running, or handed
	// back by a run or service that stopped (interrupted).
	Running int `json:"running"`
	// Pending are the tasks not started (or queued again by a retry).
	Pending int `json:"pending"`
}

// Unfinished is how many tasks are running or pending.
func (t Tasks) Unfinished() int { return t.Running + t.Pending }

// Job is one job's numbers.
type Job struct {
	Name         string `json:"job"`
	State        string `json:"state"`
	ScanFinished bool   `json:"scanFinished"`
	// Listed counts the objects the scan listed, Excluded those the
	// job's filters dropped (excludePatterns, includePatterns,
	// importSince; in later rounds of an incremental job also the
	// unchanged ones).
	Listed   int64 `json:"listed"`
	Excluded int64 `json:"excluded"`
	Planned  Count `json:"planned"`
	Tasks    Tasks `json:"tasks"`
	// Copied are the objects copied and verified; Sent the bytes
	// written to the destination for them (less after a resumed upload
	// or a server-side copy).
	Copied Count `json:"copied"`
	Sent   int64 `json:"sentBytes"`
	// Skipped are the objects not copied, SkippedBy per reason
	// (record.SkipReasons).
	Skipped   Count            `json:"skipped"`
	SkippedBy map[string]int64 `json:"skippedBy,omitempty"`
	// Verified are the objects an audit job (jobType=audit) verified.
	Verified int64 `json:"verified"`
	// Failed are the objects that failed, FailedBy per result code.
	Failed   int64            `json:"failed"`
	FailedBy map[string]int64 `json:"failedBy,omitempty"`
	// Unfinished are the planned objects not finished: in running or
	// interrupted tasks, or in tasks not started.
	Unfinished int64 `json:"unfinished"`
}

// Read reads a job's status and adds up its numbers.
func Read(dir workdir.Dir, job string) (Job, error) {
	st, err := tracker.ReadStatus(dir, job)
	if err != nil {
		return Job{}, err
	}
	return Of(dir, st), nil
}

// Of adds up the numbers of a job whose status is st, with what its
// dispatched tasks recorded (tasks a stop interrupted): the final
// numbers, for run's summary and the job's end.
func Of(dir workdir.Dir, st tracker.JobStatus) Job {
	c := st.Counters
	c.Merge(inFlight(dir, st.Name))
	return of(dir, st, c)
}

// Live adds up the numbers of a job a master runs, in constant time: the
// objects of running tasks count as unfinished until their task is
// filed, and no task folder is read (stat, again and again).
func Live(dir workdir.Dir, st tracker.JobStatus) Job {
	return of(dir, st, st.Counters)
}

func of(dir workdir.Dir, st tracker.JobStatus, c record.Counters) Job {
	j := Job{
		Name: st.Name, State: st.State, ScanFinished: st.ScanFinished,
		Planned: Count{Objects: c.Objects, Bytes: c.Bytes},
		Tasks: Tasks{Planned: st.Pending + st.Dispatched + st.Succeed + st.Failed, Succeed: st.Succeed, Failed: st.Failed,
			Running: st.Dispatched, Pending: st.Pending},
		Copied:   Count{Objects: c.Copied, Bytes: c.CopiedBytes},
		Sent:     c.WrittenBytes,
		Skipped:  Count{Objects: c.Skipped, Bytes: c.SkippedBytes},
		Verified: c.Verified - c.Copied,
		Failed:   c.Failed,
	}
	for why, n := range c.SkippedBy {
		if n > 0 {
			if j.SkippedBy == nil {
				j.SkippedBy = map[string]int64{}
			}
			j.SkippedBy[why] = n
		}
	}
	if known := sum(j.SkippedBy); known < j.Skipped.Objects {
		// Records written before skip reasons were kept.
		if j.SkippedBy == nil {
			j.SkippedBy = map[string]int64{}
		}
		j.SkippedBy[record.SkipOther] += j.Skipped.Objects - known
	}
	for code, n := range c.ByCode {
		if !code.OK() && n > 0 {
			if j.FailedBy == nil {
				j.FailedBy = map[string]int64{}
			}
			j.FailedBy[string(code)] = n
		}
	}
	j.Unfinished = max(j.Planned.Objects-j.Copied.Objects-j.Skipped.Objects-j.Failed-j.Verified, 0)
	if cp, err := workdir.LoadCheckpoint(dir.Checkpoint(st.Name)); err == nil && cp != nil {
		j.Listed, j.Excluded = cp.Stats.Listed, cp.Stats.Filtered
	}
	return j
}

// inFlight adds up what the job's unfinished tasks (dispatched, or
// pending again after a worker handed them back) recorded before they
// stopped or while they run: their objects finished successfully (a
// worker hands them in as partial results) and those that failed for
// good in an earlier attempt. The other objects of those tasks are still
// to do.
func inFlight(dir workdir.Dir, job string) record.Counters {
	var c record.Counters
	add := func(tdir string) {
		p, err := record.ReadFinished(tdir)
		if err != nil || len(p.Finished) == 0 {
			return
		}
		task, err := record.ReadTask(tdir)
		if err != nil {
			return
		}
		for _, o := range task.Objects {
			code, ok := p.Finished[o.Key]
			if ok && (code.OK() || record.Permanent(code)) {
				c.AddWhy(transfer.Result{Object: o, Code: code, Size: max(o.Size, 0)}, p.Why[o.Key])
			}
		}
	}
	for _, id := range workdir.Subdirs(filepath.Join(dir.Job(job), workdir.Pending)) {
		add(dir.Task(job, workdir.Pending, "", id))
	}
	root := filepath.Join(dir.Job(job), workdir.Dispatched)
	for _, worker := range workdir.Subdirs(root) {
		for _, id := range workdir.Subdirs(filepath.Join(root, worker)) {
			add(dir.Task(job, workdir.Dispatched, worker, id))
		}
	}
	return c
}

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// Reasons renders counts by reason or code as "a 3, b 1": the biggest
// first, then by name; "" when there are none.
func Reasons(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k, n := range m {
		if n > 0 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := m[keys[i]], m[keys[j]]
		return a > b || a == b && keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// Attrs are the numbers as slog attributes (key, value pairs), for the
// job log's lines.
func (j Job) Attrs() []any {
	return []any{
		"job", j.Name, "state", j.State,
		"planned", j.Planned.Objects, "plannedBytes", j.Planned.Bytes,
		"copied", j.Copied.Objects, "copiedBytes", j.Copied.Bytes,
		"skipped", j.Skipped.Objects, "skippedBy", Reasons(j.SkippedBy),
		"verified", j.Verified,
		"failed", j.Failed, "failedBy", Reasons(j.FailedBy),
		"unfinished", j.Unfinished, "excluded", j.Excluded,
		"succeedTasks", j.Tasks.Succeed, "failedTasks", j.Tasks.Failed, "unfinishedTasks", j.Tasks.Unfinished(),
	}
}
