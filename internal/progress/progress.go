// Package progress shows a job's progress while it runs: live bars (mpb)
// on a terminal, one plain line per update elsewhere (a log, a pipe).
// Callers feed it snapshots at their own pace:
//
//	r := progress.New(os.Stderr)
//	for range ticker.C {
//		r.Update(snapshot())
//	}
//	r.Close()
package progress

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"golang.org/x/term"
)

// Snapshot is a job's progress at one moment.
type Snapshot struct {
	Job string
	// Listed is the number of objects the scan listed so far, and
	// ScanFinished whether the scan is over (then the totals are final).
	Listed       int64
	ScanFinished bool
	// Objects and Bytes are finished (copied, skipped, verified or
	// failed) out of planned.
	Objects, ObjectsTotal int64
	Bytes, BytesTotal     int64
	// BytesPerSecond is the copy rate; ETA the time left, computed from
	// the rate and the bytes left when zero.
	BytesPerSecond float64
	ETA            time.Duration
	// Failed counts failed objects, FailedBy by result code.
	Failed   int64
	FailedBy map[string]int64
	// Tasks counts the job's tasks by state; all zero when unknown.
	Tasks Tasks
	// Elapsed is the time the run has taken so far.
	Elapsed time.Duration
	// Final marks the last snapshot of a run that ended (the job
	// finished or the run stopped): no rate or time left is shown, and
	// BytesPerSecond is the run's average copy rate.
	Final bool
}

// Tasks count tasks by state.
type Tasks struct {
	Pending, Running, Done int
}

// Renderer shows snapshots. Update and Close may be called from any
// goroutine; Update after Close does nothing.
type Renderer interface {
	Update(Snapshot)
	// Close draws the last snapshot for good and releases the output.
	Close()
}

// New returns the terminal renderer when w is a terminal of known size
// (Live), else the plain one.
func New(w io.Writer) Renderer {
	if Live(w) {
		return NewTerminal(w, 0)
	}
	return NewPlain(w)
}

// IsTerminal reports whether w is an *os.File open on a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Live reports whether w is a terminal that live bars can be drawn on:
// one whose size is known (a terminal reporting no size, as some
// emulated ones do, gets plain lines).
func Live(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	width, height, err := term.GetSize(int(f.Fd()))
	return err == nil && width > 0 && height > 0
}

// TimeLeft is ETA, or the bytes left at BytesPerSecond; 0 when unknown
// (no rate, nothing left, or the scan still finding work).
func (s Snapshot) TimeLeft() time.Duration {
	if s.Final {
		return 0
	}
	if s.ETA > 0 {
		return s.ETA
	}
	left := s.BytesTotal - s.Bytes
	if !s.ScanFinished || s.BytesPerSecond <= 0 || left <= 0 {
		return 0
	}
	return time.Duration(float64(left) / s.BytesPerSecond * float64(time.Second)).Round(time.Second)
}

// scanText is the scan's state: "scanning, N listed" or "scan finished,
// N listed".
func (s Snapshot) scanText() string {
	if s.ScanFinished {
		return fmt.Sprintf("scan finished, %d listed", s.Listed)
	}
	return fmt.Sprintf("scanning, %d listed", s.Listed)
}

// etaText renders TimeLeft, "-" when unknown.
func (s Snapshot) etaText() string {
	if d := s.TimeLeft(); d > 0 {
		return d.String()
	}
	if s.ScanFinished && s.BytesTotal > 0 && s.Bytes >= s.BytesTotal {
		return "0s"
	}
	if s.Final && s.ScanFinished && s.Objects >= s.ObjectsTotal {
		return "0s" // failed objects' bytes are not done, but nothing is left
	}
	if s.Final {
		return "- (stopped)"
	}
	return "-"
}

// failedText is "failed N" with the counts by code, biggest first.
func (s Snapshot) failedText() string {
	if s.Failed == 0 || len(s.FailedBy) == 0 {
		return fmt.Sprintf("failed %d", s.Failed)
	}
	codes := make([]string, 0, len(s.FailedBy))
	for code, n := range s.FailedBy {
		if n > 0 {
			codes = append(codes, code)
		}
	}
	sort.Slice(codes, func(i, j int) bool {
		a, b := s.FailedBy[codes[i]], s.FailedBy[codes[j]]
		return a > b || a == b && codes[i] < codes[j]
	})
	parts := make([]string, len(codes))
	for i, code := range codes {
		parts[i] = fmt.Sprintf("%s %d", code, s.FailedBy[code])
	}
	return fmt.Sprintf("failed %d (%s)", s.Failed, strings.Join(parts, ", "))
}

// Line renders the snapshot on one line, e.g.
//
//	job1: scanning, 120 listed | objects 50/120 | 1.2 MiB/3.4 MiB | 300.0 KiB/s | ETA - | failed 0 | tasks 2 pending 1 running 3 done | 12s
func Line(s Snapshot) string {
	var b strings.Builder
	if s.Job != "" {
		b.WriteString(s.Job + ": ")
	}
	fmt.Fprintf(&b, "%s | objects %d/%d | %s/%s | %s/s | ETA %s | %s",
		s.scanText(), s.Objects, s.ObjectsTotal, Bytes(s.Bytes), Bytes(s.BytesTotal), Bytes(int64(s.BytesPerSecond)), s.etaText(), s.failedText())
	if t := s.Tasks; t != (Tasks{}) {
		fmt.Fprintf(&b, " | tasks %d pending %d running %d done", t.Pending, t.Running, t.Done)
	}
	if s.Elapsed > 0 {
		fmt.Fprintf(&b, " | %s", s.Elapsed.Round(time.Second))
	}
	return b.String()
}

// Bytes formats a byte count with binary units, as "1.5 MiB".
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
