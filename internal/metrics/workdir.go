package metrics

import (
	"path/filepath"

	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/workdir"
)

// Task states of ossimport_tasks.
const (
	StatePending = "pending"
	StateRunning = "running"
	StateSucceed = "succeed"
	StateFailed  = "failed"
)

// WorkdirTasks is a Tasks source counting the tasks of every job in a
// working directory: from the job's counters file the master keeps
// (tracker.ReadCounters, one small file), else from a directory listing
// per state (no task file is read).
func WorkdirTasks(dir workdir.Dir) func() []TaskCount {
	return func() []TaskCount {
		var out []TaskCount
		for _, job := range tracker.Jobs(dir) {
			if doc, ok := tracker.ReadCounters(dir, job); ok {
				out = append(out,
					TaskCount{job, StatePending, doc.Pending},
					TaskCount{job, StateRunning, doc.Dispatched},
					TaskCount{job, StateSucceed, doc.Succeed},
					TaskCount{job, StateFailed, doc.Failed})
				continue
			}
			base := dir.Job(job)
			running := 0
			for _, w := range workdir.Subdirs(filepath.Join(base, workdir.Dispatched)) {
				running += len(workdir.Subdirs(filepath.Join(base, workdir.Dispatched, w)))
			}
			out = append(out,
				TaskCount{job, StatePending, len(workdir.Subdirs(filepath.Join(base, workdir.Pending)))},
				TaskCount{job, StateRunning, running},
				TaskCount{job, StateSucceed, len(workdir.Subdirs(filepath.Join(base, workdir.Succeed)))},
				TaskCount{job, StateFailed, len(workdir.Subdirs(filepath.Join(base, workdir.Failed)))})
		}
		return out
	}
}
