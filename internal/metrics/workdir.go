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

// WorkdirTasks is a Tasks source counting the task folders of every job
// in a working directory (a directory listing per state at each scrape;
// no task file is read).
func WorkdirTasks(dir workdir.Dir) func() []TaskCount {
	return func() []TaskCount {
		var out []TaskCount
		for _, job := range tracker.Jobs(dir) {
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
