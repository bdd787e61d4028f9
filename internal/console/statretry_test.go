package console

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/tracker"
)

// TestStatSaysWhenAJobWaitsOnRetries: stat shows, in one line under the
// task counts, the tasks queued again after a failed attempt and the
// running tasks of a lost worker with when they are handed on (by the
// active master at once, else by the queue after taskAckWait); a
// job waiting on nothing, or ended, has no such line.
func TestStatSaysWhenAJobWaitsOnRetries(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	workers := []tracker.WorkerStatus{
		{Name: "10.0.0.1", Alive: true, LastHeartbeat: now},
		{Name: "10.0.0.2", Alive: false, LastHeartbeat: now.Add(-20 * time.Second)},
	}
	st := tracker.JobStatus{Name: "waiting", State: tracker.Running, Pending: 3, Dispatched: 3, Retrying: 2,
		Running: []tracker.TaskProgress{{ID: "T1", Worker: "10.0.0.1"}, {ID: "T2", Worker: "10.0.0.2"}, {ID: "T3", Worker: "10.0.0.2"}}}
	calm := tracker.JobStatus{Name: "calm", State: tracker.Running, Pending: 1, Dispatched: 1,
		Running: []tracker.TaskProgress{{ID: "T9", Worker: "10.0.0.1"}}}
	ended := tracker.JobStatus{Name: "ended", State: tracker.Failed, Failed: 1,
		Running: []tracker.TaskProgress{{ID: "T8", Worker: "10.0.0.2"}}}
	var buf bytes.Buffer
	writeStatWith(&buf, "", []tracker.JobStatus{st, calm, ended}, retryLines([]tracker.JobStatus{st, calm, ended}, workers, time.Minute, false, now))
	out := buf.String()
	want := "Is Scan Finished:false\nWaiting On Retries:4 tasks (2 queued again after a failed attempt, next attempt as soon as a worker is free; " +
		"2 held by lost worker 10.0.0.2, next attempt on another worker in 40s)\n"
	if !strings.Contains(out, want) {
		t.Errorf("no %q in\n%s", want, out)
	}
	if n := strings.Count(out, "Waiting On Retries:"); n != 1 {
		t.Errorf("%d retry lines, want only the waiting job's:\n%s", n, out)
	}

	// A lost worker whose tasks are overdue: the next attempt is due now.
	if got := waitOf(st, workers, 10*time.Second, false).line(now); !strings.Contains(got, "in 0s)") {
		t.Errorf("overdue redelivery: %q", got)
	}
	// With an active master, a lost worker's tasks are handed back at
	// once, not after taskAckWait.
	if got := waitOf(st, workers, time.Minute, true).line(now); !strings.Contains(got, "2 held by lost worker 10.0.0.2, next attempt on another worker as soon as one is free (the active master hands them back))") {
		t.Errorf("lost worker's tasks with a master: %q", got)
	}
	// Only queued retries, taskAckWait unknown.
	st.Running = nil
	if got := waitOf(st, nil, 0, false).line(now); got != "Waiting On Retries:2 tasks (2 queued again after a failed attempt, next attempt as soon as a worker is free)" {
		t.Errorf("queued retries only: %q", got)
	}
}
