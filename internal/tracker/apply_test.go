package tracker

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

func TestDispatchAndApply(t *testing.T) {
	dir := workdir.Dir(t.TempDir())
	task := plan.Task{ID: "T1", Job: "job", Objects: []transfer.Object{{Key: "a", Size: 1}, {Key: "b", Size: 2}}, Bytes: 3}
	if err := record.WriteTask(dir.Task("job", workdir.Pending, "", "T1"), task); err != nil {
		t.Fatal(err)
	}
	for _, worker := range []string{"10.0.0.2", "10.0.0.2", "10.0.0.3"} {
		if err := Dispatch(dir, "job", "T1", worker); err != nil {
			t.Fatal(err)
		}
		if _, state, _ := Locate(dir, "job", "T1"); state != workdir.Dispatched {
			t.Fatalf("after dispatch to %s: state %s", worker, state)
		}
	}
	if path, _, _ := Locate(dir, "job", "T1"); path != dir.Task("job", workdir.Dispatched, "10.0.0.3", "T1") {
		t.Fatalf("redelivered task not under its new worker: %s", path)
	}

	now := time.Now()
	first := protocol.TaskResult{Job: "job", TaskID: "T1", Worker: "10.0.0.3", Objects: []protocol.ObjectResult{
		protocol.FromResult(transfer.Result{Object: task.Objects[0], Code: transfer.Succeed, Size: 1}, now),
		protocol.FromResult(transfer.Result{Object: task.Objects[1], Code: transfer.UploadFailed, Detail: "503"}, now),
	}}
	c, err := Apply(dir, first)
	if err != nil || c.Failed != 1 || c.Copied != 1 {
		t.Fatalf("apply: %+v %v", c, err)
	}
	if _, state, _ := Locate(dir, "job", "T1"); state != workdir.Failed {
		t.Fatalf("state %s, want failed", state)
	}
	// The retry carries only the failed object; the task succeeds with
	// both objects counted.
	retry := protocol.TaskResult{Job: "job", TaskID: "T1", Worker: "10.0.0.2", Objects: []protocol.ObjectResult{
		protocol.FromResult(transfer.Result{Object: task.Objects[1], Code: transfer.Succeed, Size: 2}, now),
	}}
	if c, err = Apply(dir, retry); err != nil || c.Copied != 2 || c.Failed != 0 {
		t.Fatalf("apply retry: %+v %v", c, err)
	}
	if _, state, _ := Locate(dir, "job", "T1"); state != workdir.Succeed {
		t.Fatalf("state %s, want succeed", state)
	}
	// A duplicate delivery of the first result changes nothing.
	if _, err := Apply(dir, first); err != nil {
		t.Fatal(err)
	}
	if _, state, _ := Locate(dir, "job", "T1"); state != workdir.Succeed {
		t.Fatalf("a duplicate result moved the task to %s", state)
	}
	if _, err := Apply(dir, protocol.TaskResult{Job: "job", TaskID: "nope"}); !errors.Is(err, ErrUnknownTask) {
		t.Fatalf("unknown task: %v", err)
	}
}

// TestApplyAgainAfterACrash applies a result whose first application was
// cut short by a crash (progress written, task not yet filed): every
// object is counted once.
func TestApplyAgainAfterACrash(t *testing.T) {
	dir := workdir.Dir(t.TempDir())
	task := plan.Task{ID: "T1", Job: "job", Objects: []transfer.Object{{Key: "a", Size: 1}, {Key: "b", Size: 2}}, Bytes: 3}
	path := dir.Task("job", workdir.Pending, "", "T1")
	if err := record.WriteTask(path, task); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	res := protocol.TaskResult{Job: "job", TaskID: "T1", Worker: "w", Objects: []protocol.ObjectResult{
		protocol.FromResult(transfer.Result{Object: task.Objects[0], Code: transfer.Succeed, Size: 1}, now),
		protocol.FromResult(transfer.Result{Object: task.Objects[1], Code: transfer.Succeed, Size: 2}, now),
	}}
	w, _, _, err := record.Resume(path)
	if err != nil {
		t.Fatal(err)
	}
	_ = w.Add(res.Objects[0].Result()) // the crash comes before Close
	c, err := Apply(dir, res)
	if err != nil || c.Copied != 2 || c.Objects != 2 {
		t.Fatalf("counters after the second application: %+v (%v), want 2 objects copied once each", c, err)
	}
}

func TestFilePlanned(t *testing.T) {
	dir := workdir.Dir(t.TempDir())
	task := plan.Task{ID: "T1", Job: "job", Objects: []transfer.Object{{Key: "a", Size: 1}}}
	// A crash left the pending folder without its TASK.
	if err := os.MkdirAll(dir.Task("job", workdir.Pending, "", "T1"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, false} {
		state, fresh, err := FilePlanned(dir, task)
		if err != nil || state != workdir.Pending || fresh != want {
			t.Fatalf("filing %d: state %q fresh %v (%v), want pending, fresh %v", i, state, fresh, err, want)
		}
	}
	if _, err := record.ReadTask(dir.Task("job", workdir.Pending, "", "T1")); err != nil {
		t.Fatalf("TASK not written: %v", err)
	}
	if _, err := Apply(dir, protocol.TaskResult{Job: "job", TaskID: "T1", Objects: []protocol.ObjectResult{
		protocol.FromResult(transfer.Result{Object: task.Objects[0], Code: transfer.Succeed, Size: 1}, time.Now())}}); err != nil {
		t.Fatal(err)
	}
	if state, fresh, err := FilePlanned(dir, task); err != nil || state != workdir.Succeed || fresh {
		t.Fatalf("a finished task planned again: state %q fresh %v (%v)", state, fresh, err)
	}
}
