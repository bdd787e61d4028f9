package console

import (
	"strings"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/tracker"
)

// TestRunSummaryCountsSizeOnly: run's summary says how many objects were
// verified by their size alone, and says nothing when none were.
func TestRunSummaryCountsSizeOnly(t *testing.T) {
	var st tracker.JobStatus
	st.Name = "j"
	st.Counters = record.Counters{Copied: 5, Verified: 5, SizeOnly: 2}
	var b strings.Builder
	runSummary{status: st, elapsed: time.Second}.write(&b)
	if !strings.Contains(b.String(), "verified by size only (no checksum at the destination): 2") {
		t.Errorf("summary:\n%s", b.String())
	}
	st.Counters.SizeOnly = 0
	b.Reset()
	runSummary{status: st, elapsed: time.Second}.write(&b)
	if strings.Contains(b.String(), "size only") {
		t.Errorf("summary without size-only objects mentions them:\n%s", b.String())
	}
}
