package tracker_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/bus/bustest"
	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/report"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// hooks records what a tracker tells the master.
type hooks struct {
	mu      sync.Mutex
	filed   []string // task ids
	aborted []string // reasons
}

func (h *hooks) options(dir workdir.Dir, b *bus.Bus) tracker.Options {
	return tracker.Options{Dir: dir, Bus: b,
		Filed: func(res protocol.TaskResult) { h.mu.Lock(); h.filed = append(h.filed, res.TaskID); h.mu.Unlock() },
		Aborted: func(_, reason string) {
			h.mu.Lock()
			h.aborted = append(h.aborted, reason)
			h.mu.Unlock()
		}}
}

// TestTrackerFilesTheJournalAlone: with no master running, a tracker
// files a job's journal (a planned task, its result, an abort) into the
// view, keeps the counters and tells the master through its hooks;
// Stop(true) files what the journal holds before it returns. Filed again
// from the start by a second tracker (its marker lost), the journal
// changes nothing: filing is idempotent.
func TestTrackerFilesTheJournalAlone(t *testing.T) {
	work := t.TempDir()
	srv := bustest.Server(t, work)
	b := bustest.Connect(t, srv, "tracker", bus.SetupOptions{})
	dir := workdir.Dir(work)
	objs := []transfer.Object{{Key: "a", Size: 1}, {Key: "b", Size: 2}}
	task, _ := protocol.EncodeTask(plan.Task{ID: "T1", Job: "j", Objects: objs})
	now := time.Now()
	res, _ := protocol.EncodeResult(protocol.TaskResult{Job: "j", TaskID: "T1", Worker: "w1", Finished: now, Objects: []protocol.ObjectResult{
		{Object: objs[0], Code: transfer.Succeed, Size: 1, At: now}, {Object: objs[1], Code: transfer.Succeed, Size: 2, At: now}}})

	run := func(h *hooks, journal func(ctx context.Context)) {
		t.Helper()
		tr, err := tracker.New(h.options(dir, b))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		tr.Start(ctx)
		journal(ctx)
		cancel()
		tr.Stop(true)
	}
	check := func(h *hooks, when string) {
		t.Helper()
		st, err := tracker.ReadStatus(dir, "j")
		if err != nil || st.State != tracker.Abort || st.Reason != "bucket gone" || st.Succeed != 1 || st.Objects.Done != 2 {
			t.Fatalf("%s: status %+v (%v), want the task succeeded with its 2 objects and the job aborted", when, st, err)
		}
		if doc, ok := tracker.ReadCounters(dir, "j"); !ok || !doc.Clean || doc.Succeed != 1 {
			t.Fatalf("%s: counters %+v (%v), want 1 task succeeded, marked clean", when, doc, ok)
		}
		sum, err := report.Summary(dir.Reports("j"))
		if err != nil || sum[report.Copied] != 2 {
			t.Fatalf("%s: reports %v (%v), want 2 copied rows", when, sum, err)
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		if len(h.filed) != 1 || h.filed[0] != "T1" || len(h.aborted) != 1 || h.aborted[0] != "bucket gone" {
			t.Fatalf("%s: hooks filed %v aborted %v, want T1 once and the abort once", when, h.filed, h.aborted)
		}
	}

	first := &hooks{}
	run(first, func(ctx context.Context) {
		for _, err := range []error{
			b.Append(ctx, "j", bus.KindPlanned, "T1", "T1", task),
			b.PublishResult(ctx, "j", "T1", res),
			b.Append(ctx, "j", bus.KindAbort, "", "", []byte("bucket gone")),
		} {
			if err != nil {
				t.Fatal(err)
			}
		}
	})
	check(first, "filed")

	if err := os.Remove(filepath.Join(work, "master", "JOURNAL")); err != nil {
		t.Fatal(err)
	}
	again := &hooks{}
	run(again, func(context.Context) {})
	check(again, "filed again")
}
