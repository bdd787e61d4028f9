package console

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/tracker"
)

// TestStatIncrementalJob: an incremental job keeps ossimport's lines
// (JobState:Running, Is Scan Finished:false), adds its round, when the
// round's scan ended and when the next starts, and never ends a watch.
func TestStatIncrementalJob(t *testing.T) {
	ended := time.Date(2030, 1, 2, 3, 4, 5, 0, time.Local)
	st := tracker.JobStatus{Name: "inc", State: tracker.Running, Succeed: 3, Incremental: true, Round: 4,
		RoundEnded: ended, NextRound: ended.Add(time.Hour)}
	var buf bytes.Buffer
	writeStat(&buf, "", []tracker.JobStatus{st})
	for _, want := range []string{"JobState:Running\n", "Is Scan Finished:false\n", "Incremental Round:4\n",
		"Round Scan Ended:2030-01-02 03:04:05\n", "Next Round Starts:2030-01-02 04:04:05 (in "} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("no %q in\n%s", want, buf.String())
		}
	}
	st.RoundEnded, st.NextRound = time.Time{}, time.Time{}
	buf.Reset()
	writeStat(&buf, "", []tracker.JobStatus{st})
	if !strings.Contains(buf.String(), "Round Scan Ended:scanning\n") || strings.Contains(buf.String(), "Next Round") {
		t.Errorf("a round scanning:\n%s", buf.String())
	}

	done := tracker.JobStatus{Name: "full", State: tracker.Succeed}
	if allEnded([]tracker.JobStatus{done, st}) {
		t.Error("an incremental job ended a watch")
	}
	st.State = tracker.Abort
	if !allEnded([]tracker.JobStatus{done, st}) {
		t.Error("an aborted incremental job did not end a watch")
	}
	buf.Reset()
	writeStat(&buf, "", []tracker.JobStatus{done})
	if strings.Contains(buf.String(), "Round") {
		t.Errorf("a full job shows rounds:\n%s", buf.String())
	}
}
