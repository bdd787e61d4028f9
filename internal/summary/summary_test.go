package summary

import (
	"testing"

	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// TestOfCountsInterruptedTasks: the objects a dispatched task finished
// before it stopped count as copied or skipped (with the reason); the
// rest as unfinished, and everything adds up to the planned objects.
func TestOfCountsInterruptedTasks(t *testing.T) {
	dir := workdir.Dir(t.TempDir())
	objs := func(keys ...string) []transfer.Object {
		var out []transfer.Object
		for _, k := range keys {
			out = append(out, transfer.Object{Key: k, Size: 10})
		}
		return out
	}
	done := plan.Task{ID: "A", Job: "j", Objects: objs("a1", "a2"), Bytes: 20}
	stopped := plan.Task{ID: "B", Job: "j", Objects: objs("b1", "b2", "b3", "b4"), Bytes: 40}
	waiting := plan.Task{ID: "C", Job: "j", Objects: objs("c1"), Bytes: 10}
	if err := workdir.SaveCheckpoint(dir.Checkpoint("j"), &plan.Checkpoint{Job: "j", Done: true, Stats: plan.Stats{Listed: 9, Filtered: 2, Tasks: 3}}); err != nil {
		t.Fatal(err)
	}
	finish := func(tdir string, tk plan.Task, results []transfer.Result, close bool) {
		t.Helper()
		w, err := record.Create(tdir, tk)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range results {
			if err := w.Add(r); err != nil {
				t.Fatal(err)
			}
		}
		if close {
			_, err = w.Close()
		} else {
			err = w.Suspend()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	finish(dir.Task("j", workdir.Succeed, "", "A"), done, []transfer.Result{
		{Object: done.Objects[0], Code: transfer.Succeed, Size: 10, Bytes: 10},
		{Object: done.Objects[1], Code: transfer.Skipped, Size: 10, Detail: "symbolic link not copied (set isAllowSymbolicLink=true to copy links to files)"},
	}, true)
	finish(dir.Task("j", workdir.Dispatched, "w1", "B"), stopped, []transfer.Result{
		{Object: stopped.Objects[0], Code: transfer.Succeed, Size: 10, Bytes: 10},
		{Object: stopped.Objects[1], Code: transfer.Skipped, Size: 10, Detail: "exists at the destination with the same size and mtime"},
	}, false)
	if err := record.WriteTask(dir.Task("j", workdir.Pending, "", "C"), waiting); err != nil {
		t.Fatal(err)
	}
	st, err := tracker.ReadStatus(dir, "j")
	if err != nil {
		t.Fatal(err)
	}
	j := Of(dir, st)
	if j.Planned != (Count{Objects: 7, Bytes: 70}) || j.Tasks != (Tasks{Planned: 3, Succeed: 1, Running: 1, Pending: 1}) {
		t.Fatalf("planned %+v, tasks %+v", j.Planned, j.Tasks)
	}
	if j.Copied != (Count{Objects: 2, Bytes: 20}) || j.Skipped != (Count{Objects: 2, Bytes: 20}) ||
		j.SkippedBy[record.SkipSymlink] != 1 || j.SkippedBy[record.SkipExists] != 1 || j.Unfinished != 3 {
		t.Fatalf("summary %+v: want 2 copied, 2 skipped (symlink 1, exists 1), 3 unfinished", j)
	}
	if j.Listed != 9 || j.Excluded != 2 {
		t.Errorf("listed %d excluded %d, want the checkpoint's 9 and 2", j.Listed, j.Excluded)
	}
	// While a master runs the job, stat reads no task folder: the running
	// task's objects stay unfinished until it is filed.
	live := Live(dir, st)
	if live.Planned != j.Planned || live.Copied != (Count{Objects: 1, Bytes: 10}) || live.Skipped != (Count{Objects: 1, Bytes: 10}) ||
		live.Unfinished != 5 || live.Listed != 9 {
		t.Errorf("live summary %+v: want only the filed task's 1 copied and 1 skipped, 5 unfinished", live)
	}
	if got := Reasons(map[string]int64{"b": 1, "a": 1, "c": 3, "z": 0}); got != "c 3, a 1, b 1" {
		t.Errorf("Reasons: %q", got)
	}
}
