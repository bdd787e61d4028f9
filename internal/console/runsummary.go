package console

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/ossimport/ossimport/internal/progress"
	"github.com/ossimport/ossimport/internal/summary"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// runSummary is what run prints when it ends: the job's numbers as
// summary.Of adds them up (the same as import.log's "job finished" line,
// stat --json's "summary" and the reports), what this run resumed or
// left interrupted, and this run's copy rate.
type runSummary struct {
	// status is the job's status at the end, before at the start of
	// the copy (after failed tasks were queued again).
	status, before tracker.JobStatus
	dir            workdir.Dir
	// prior is the job's numbers before this run, when it had run
	// before (nil for a new job).
	prior   *summary.Job
	elapsed time.Duration
	// interrupted is set when the run stopped before the job ended
	// (Ctrl-C, SIGTERM).
	interrupted bool
}

// resumed reports the work an earlier run left: its unfinished tasks
// (interrupted or not started) and the failed tasks this run queued
// again. ok is false when there is none.
func (s runSummary) resumed() (tasks, objects int64, retried int, ok bool) {
	if s.prior == nil {
		return 0, 0, 0, false
	}
	p := *s.prior
	retried = max(p.Tasks.Failed-s.before.Failed, 0)
	tasks, objects = int64(p.Tasks.Unfinished()), p.Unfinished
	return tasks, objects, retried, tasks > 0 || retried > 0
}

// logStart writes to the job log (import.log) what this run resumes.
func (s runSummary) logStart(log *slog.Logger) {
	if tasks, objects, retried, ok := s.resumed(); ok {
		log.Info("run resumed", "job", s.before.Name, "tasks", tasks, "objects", objects, "failedTasksRetried", retried)
	}
}

// logEnd writes an interrupted run's numbers to the job log; a run
// whose job ended has the master's "job finished" line.
func (s runSummary) logEnd(log *slog.Logger) {
	if s.interrupted {
		log.Info("run interrupted", summary.Of(s.dir, s.status).Attrs()...)
	}
}

// write prints the summary.
func (s runSummary) write(w io.Writer) {
	st := s.status
	j := summary.Of(s.dir, st)
	scan := "scan finished"
	if !j.ScanFinished {
		scan = "scan not finished: planned so far"
	}
	fmt.Fprintf(w, "Job %s: %s\n", st.Name, st.State)
	fmt.Fprintf(w, "  planned:             %d objects (%s) in %d tasks; %s\n", j.Planned.Objects, progress.Bytes(j.Planned.Bytes), j.Tasks.Planned, scan)
	if j.Excluded > 0 {
		fmt.Fprintf(w, "  excluded by filters: %d of %d listed (not planned)\n", j.Excluded, j.Listed)
	}
	fmt.Fprintf(w, "  copied and verified: %d (%s)\n", j.Copied.Objects, progress.Bytes(j.Copied.Bytes))
	if n := st.Counters.SizeOnly; n > 0 {
		fmt.Fprintf(w, "  verified by size only (no checksum at the destination): %d\n", n)
	}
	if j.Verified > 0 {
		fmt.Fprintf(w, "  verified (audit):    %d\n", j.Verified)
	}
	fmt.Fprintf(w, "  skipped:             %d (%s)", j.Skipped.Objects, progress.Bytes(j.Skipped.Bytes))
	if r := summary.Reasons(j.SkippedBy); r != "" {
		fmt.Fprintf(w, ": %s", r)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  failed:              %d\n", j.Failed)
	for _, code := range sortedCodes(j.FailedBy) {
		fmt.Fprintf(w, "    %-16s %d\n", code, j.FailedBy[code])
	}
	switch {
	case s.interrupted:
		fmt.Fprintf(w, "  interrupted:         %d objects in %d tasks (%d running when stopped, %d not started); run the same command again to resume them\n",
			j.Unfinished, j.Tasks.Unfinished(), j.Tasks.Running, j.Tasks.Pending)
	case j.Unfinished > 0 || j.Tasks.Unfinished() > 0:
		fmt.Fprintf(w, "  not finished:        %d objects in %d tasks\n", j.Unfinished, j.Tasks.Unfinished())
	}
	if tasks, objects, retried, ok := s.resumed(); ok {
		var parts []string
		if tasks > 0 {
			parts = append(parts, fmt.Sprintf("%d objects in %d tasks an earlier run left", objects, tasks))
		}
		if retried > 0 {
			parts = append(parts, fmt.Sprintf("%d failed tasks retried (their failed objects)", retried))
		}
		fmt.Fprintf(w, "  resumed:             %s\n", strings.Join(parts, "; "))
	}
	fmt.Fprintf(w, "  tasks: %d succeeded, %d failed, %d not finished\n", j.Tasks.Succeed, j.Tasks.Failed, j.Tasks.Unfinished())
	// This run's rates: bytes copied (written to the destination), and
	// bytes processed (copied, skipped or verified), which a job that
	// mostly skips makes far larger.
	var b summary.Job
	if s.prior != nil {
		b = summary.Of(s.dir, s.before)
	}
	copied := max(j.Copied.Bytes-b.Copied.Bytes, 0)
	processed := max(j.Copied.Bytes+j.Skipped.Bytes-b.Copied.Bytes-b.Skipped.Bytes, 0)
	fmt.Fprintf(w, "  this run: copied %s at %s/s (sent %s); processed %s at %s/s (copied, skipped or verified); elapsed %s\n",
		progress.Bytes(copied), progress.Bytes(perSecond(copied, s.elapsed)), progress.Bytes(max(j.Sent-b.Sent, 0)),
		progress.Bytes(processed), progress.Bytes(perSecond(processed, s.elapsed)), s.elapsed.Round(time.Millisecond))
}

// perSecond is n over d, 0 when d is not positive.
func perSecond(n int64, d time.Duration) int64 {
	if secs := d.Seconds(); secs > 0 && n > 0 {
		return int64(float64(n) / secs)
	}
	return 0
}

// sortedCodes lists the codes of m in transfer.Codes' order.
func sortedCodes(m map[string]int64) []string {
	var out []string
	for _, code := range transfer.Codes {
		if m[string(code)] > 0 {
			out = append(out, string(code))
		}
	}
	return out
}
