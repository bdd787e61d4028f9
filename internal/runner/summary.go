package runner

import (
	"fmt"
	"io"
	"time"

	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/progress"
	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/transfer"
)

// Summary is a snapshot of a run.
type Summary struct {
	Job          string          `json:"job"`
	Counters     record.Counters `json:"counters"`
	Tasks        TaskCounts      `json:"tasks"`
	Scan         plan.Stats      `json:"scan"`
	ScanFinished bool            `json:"scanFinished"`
	Elapsed      time.Duration   `json:"elapsed"`
	// ReadBytes counts bytes read from the source by this process.
	ReadBytes int64 `json:"readBytes"`
}

// Summary returns the current state of the run.
func (r *Runner) Summary() Summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Summary{
		Job: r.spec.Name, Counters: r.counters, Tasks: r.tasks, Scan: r.scan, ScanFinished: r.scanDone,
		Elapsed: time.Since(r.started), ReadBytes: r.copied.Load(),
	}
}

// OK reports whether every object was copied, skipped or verified.
func (s Summary) OK() bool { return s.Counters.Failed == 0 && s.Tasks.Failed == 0 }

// Rate is the source read rate in bytes per second.
func (s Summary) Rate() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.ReadBytes) / s.Elapsed.Seconds()
}

// WriteReport prints the final summary.
func (s Summary) WriteReport(w io.Writer) {
	c := s.Counters
	fmt.Fprintf(w, "Job %s: %d objects (%s) planned in %d tasks\n", s.Job, c.Objects, progress.Bytes(c.Bytes), s.Tasks.Pending+s.Tasks.Running+s.Tasks.Succeed+s.Tasks.Failed)
	fmt.Fprintf(w, "  copied and verified: %d (%s)\n", c.Copied, progress.Bytes(c.CopiedBytes))
	if v := c.Verified - c.Copied; v > 0 {
		fmt.Fprintf(w, "  verified (audit):    %d\n", v)
	}
	fmt.Fprintf(w, "  skipped:             %d\n", c.Skipped)
	fmt.Fprintf(w, "  failed:              %d\n", c.Failed)
	for _, code := range transfer.Codes {
		if n := c.ByCode[code]; n > 0 && !code.OK() {
			fmt.Fprintf(w, "    %-16s %d\n", code, n)
		}
	}
	fmt.Fprintf(w, "  tasks: %d succeeded, %d failed, %d not finished\n", s.Tasks.Succeed, s.Tasks.Failed, s.Tasks.Pending+s.Tasks.Running)
	fmt.Fprintf(w, "  elapsed %s, %s/s\n", s.Elapsed.Round(time.Millisecond), progress.Bytes(int64(s.Rate())))
}
