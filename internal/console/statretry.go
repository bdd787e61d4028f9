package console

import (
	"fmt"
	"strings"
	"time"

	"github.com/ossimport/ossimport/internal/tracker"
)

// retryWait is what a job waits on to have tasks tried again: the tasks
// queued again after a failed attempt (the view's count, kept by the
// master's ledger), and the running tasks whose worker was lost, which
// the active master hands to another worker at once (bus.HandBack)
// and, with no master, the queue once taskAckWait has passed since the
// worker was last heard from. It is read in constant time from what stat
// reads anyway.
type retryWait struct {
	// Queued are pending tasks in a retry.
	Queued int
	// Redelivered are running tasks held by a lost worker; Next is when
	// the first of them is handed on (zero when unknown), HandedBack that
	// an active master hands them on now.
	Redelivered int
	Lost        []string
	Next        time.Time
	HandedBack  bool
}

// waitOf returns what job st waits on to be tried again; workers are as
// stat shows them (alive or not), ackWait is taskAckWait (0: unknown),
// leads whether an active master runs (it hands a lost worker's tasks
// back at once).
func waitOf(st tracker.JobStatus, workers []tracker.WorkerStatus, ackWait time.Duration, leads bool) retryWait {
	r := retryWait{Queued: st.Retrying, HandedBack: leads}
	if st.Ended() || len(st.Running) == 0 {
		return r
	}
	known := make(map[string]tracker.WorkerStatus, len(workers))
	for _, w := range workers {
		known[w.Name] = w
	}
	lost := map[string]bool{}
	for _, t := range st.Running {
		w, ok := known[t.Worker]
		if !ok || w.Alive {
			continue // unknown to the master yet, or working
		}
		r.Redelivered++
		if !lost[w.Name] {
			lost[w.Name] = true
			r.Lost = append(r.Lost, w.Name)
		}
		if ackWait > 0 && !w.LastHeartbeat.IsZero() {
			if at := w.LastHeartbeat.Add(ackWait); r.Next.IsZero() || at.Before(r.Next) {
				r.Next = at
			}
		}
	}
	return r
}

// line is stat's line about the retries, empty when the job waits on
// none.
func (r retryWait) line(now time.Time) string {
	if r.Queued == 0 && r.Redelivered == 0 {
		return ""
	}
	var parts []string
	if r.Queued > 0 {
		parts = append(parts, fmt.Sprintf("%d queued again after a failed attempt, next attempt as soon as a worker is free", r.Queued))
	}
	if r.Redelivered > 0 {
		next := "after taskAckWait"
		switch {
		case r.HandedBack:
			next = "as soon as one is free (the active master hands them back)"
		case !r.Next.IsZero():
			next = "in " + max(r.Next.Sub(now), 0).Round(time.Second).String()
		}
		parts = append(parts, fmt.Sprintf("%d held by lost worker %s, next attempt on another worker %s", r.Redelivered, strings.Join(r.Lost, ","), next))
	}
	return fmt.Sprintf("Waiting On Retries:%d tasks (%s)", r.Queued+r.Redelivered, strings.Join(parts, "; "))
}

// retryLines is each job's retry line for writeStatWith; leads says
// whether an active master runs.
func retryLines(jobs []tracker.JobStatus, workers []tracker.WorkerStatus, ackWait time.Duration, leads bool, now time.Time) map[string]string {
	lines := map[string]string{}
	for _, st := range jobs {
		if l := waitOf(st, workers, ackWait, leads).line(now); l != "" {
			lines[st.Name] = l
		}
	}
	return lines
}
