package metrics

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/workdir"
)

// TestWorkdirTasksReadsTheCounters: with the master's counters file,
// the task counts come from it (no folder is listed), and an
// incremental job's scan is never reported finished.
func TestWorkdirTasksReadsTheCounters(t *testing.T) {
	dir := workdir.Dir(t.TempDir())
	doc := tracker.CountersDoc{Version: tracker.CountersVersion, Incremental: true,
		Tally: tracker.Tally{Pending: 4, Dispatched: 3, Succeed: 2, Failed: 1}}
	data, _ := json.Marshal(doc)
	if err := workdir.WriteFile(filepath.Join(dir.Job("j"), workdir.CountersFile), data); err != nil {
		t.Fatal(err)
	}
	got := WorkdirTasks(dir)()
	want := []TaskCount{{"j", StatePending, 4}, {"j", StateRunning, 3}, {"j", StateSucceed, 2}, {"j", StateFailed, 1}}
	if !slices.Equal(got, want) {
		t.Fatalf("task counts %v, want %v", got, want)
	}
	if err := workdir.SaveCheckpoint(dir.Checkpoint("j"), &plan.Checkpoint{Job: "j", Done: true}); err != nil {
		t.Fatal(err)
	}
	m := New()
	m.sampleJobs(t.Context(), dir, nil)
	if v := testutil.ToFloat64(m.x.scanDone.WithLabelValues("j")); v != 0 {
		t.Fatalf("scan_finished of an incremental job = %v, want 0", v)
	}
}
