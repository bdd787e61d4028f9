package tracker

import (
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// Skipped objects are not copied: a job that only skips has no copy
// rate, however many bytes it went through, and the skip reasons are
// counted.
func TestLedgerRateCountsCopiedBytesOnly(t *testing.T) {
	dir := workdir.Dir(t.TempDir())
	if err := workdir.SaveCheckpoint(dir.Checkpoint("job"), &plan.Checkpoint{Job: "job", Done: true, Stats: plan.Stats{Tasks: 4}}); err != nil {
		t.Fatal(err)
	}
	f := newFiler(t, dir)
	now := time.Unix(1_700_000_000, 0)
	f.l.now = func() time.Time { return now }
	var tasks []plan.Task
	for _, id := range []string{"A", "B", "C", "D"} { // D stays pending: the job runs
		tk := plan.Task{ID: id, Job: "job", Objects: []transfer.Object{{Key: id, Size: 10 << 20}}, Bytes: 10 << 20}
		tasks = append(tasks, tk)
		f.plan(tk)
	}
	f.l.Tick()
	for _, tk := range tasks[:2] {
		now = now.Add(time.Second)
		f.result(tk, "w1", transfer.Skipped)
		f.l.Tick()
	}
	st := ledgerStatus(t, dir)
	if st.Throughput != 0 || st.Bytes.Done != 20<<20 {
		t.Fatalf("after two skipped objects: throughput %.0f B/s, bytes done %d; want no copy rate, 20 MiB done", st.Throughput, st.Bytes.Done)
	}
	if got := st.Counters.SkippedBy["other"]; got != 2 {
		t.Errorf("skipped by reason %v, want 2 under other (no detail given)", st.Counters.SkippedBy)
	}
	now = now.Add(time.Second)
	f.result(tasks[2], "w1", transfer.Succeed)
	f.l.Tick()
	if st = ledgerStatus(t, dir); st.Throughput < float64(10<<20)/3-1 || st.Throughput > float64(10<<20)/3+1 {
		t.Fatalf("throughput %.0f B/s, want the 10 MiB copied over the 3 s window", st.Throughput)
	}
}
