package console

import (
	"fmt"
	"io"

	"github.com/ossimport/ossimport/internal/summary"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/workdir"
)

// statJob is one job in stat --json: its status, and under "summary"
// the numbers summary.Of adds up (the same as run's summary and
// import.log's "job finished" line).
type statJob struct {
	tracker.JobStatus
	Summary summary.Job `json:"summary"`
}

// statJobs adds the summaries to jobs, for stat --json.
func statJobs(dir workdir.Dir, jobs []tracker.JobStatus) []statJob {
	out := make([]statJob, len(jobs))
	for i, st := range jobs {
		out[i] = statJob{JobStatus: st, Summary: statSummary(dir, st)}
	}
	return out
}

// writeSummaryLines prints a job's summary in stat's text: what was
// copied, skipped (by reason), failed (by code), is unfinished, and was
// excluded by the job's filters.
func writeSummaryLines(w io.Writer, dir workdir.Dir, st tracker.JobStatus) {
	j := statSummary(dir, st)
	fmt.Fprintf(w, "Copied:%d Skipped:%d Failed:%d Verified:%d Unfinished:%d Excluded:%d\n",
		j.Copied.Objects, j.Skipped.Objects, j.Failed, j.Verified, j.Unfinished, j.Excluded)
	if r := summary.Reasons(j.SkippedBy); r != "" {
		fmt.Fprintf(w, "Skipped By:%s\n", r)
	}
	if r := summary.Reasons(j.FailedBy); r != "" {
		fmt.Fprintf(w, "Failed By:%s\n", r)
	}
}

// statSummary is a job's summary as stat shows it: while a master runs
// the job, in constant time (summary.Live: the objects of running tasks
// are unfinished until filed); otherwise the final numbers, with what
// interrupted tasks recorded (summary.Of, as run's summary has them).
func statSummary(dir workdir.Dir, st tracker.JobStatus) summary.Job {
	if st.Master != "" {
		return summary.Live(dir, st)
	}
	return summary.Of(dir, st)
}
