package tracker

import (
	"os"
	"testing"

	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// writeTask files a task in a state with the given results.
func writeTask(t *testing.T, dir string, id string, sizes []int64, codes []transfer.Code, finish bool) {
	t.Helper()
	task := plan.Task{ID: id, Job: "job"}
	for i, n := range sizes {
		task.Objects = append(task.Objects, transfer.Object{Key: id + "/" + string(rune('a'+i)), Size: n})
		task.Bytes += n
	}
	w, err := record.Create(dir, task)
	if err != nil {
		t.Fatal(err)
	}
	for i, code := range codes {
		if err := w.Add(transfer.Result{Object: task.Objects[i], Code: code, Size: sizes[i], Bytes: sizes[i]}); err != nil {
			t.Fatal(err)
		}
	}
	if finish {
		if _, err := w.Close(); err != nil {
			t.Fatal(err)
		}
	} else if err := w.Commit(); err != nil { // an unfinished task's progress, as a partial result leaves it
		t.Fatal(err)
	}
}

func TestReadStatus(t *testing.T) {
	dir := workdir.Dir(t.TempDir())
	if err := workdir.SaveCheckpoint(dir.Checkpoint("job"), &plan.Checkpoint{Job: "job", Done: true}); err != nil {
		t.Fatal(err)
	}
	ok := []transfer.Code{transfer.Succeed, transfer.Succeed}
	writeTask(t, dir.Task("job", workdir.Succeed, "", "T1"), "T1", []int64{10, 20}, ok, true)
	writeTask(t, dir.Task("job", workdir.Failed, "", "T2"), "T2", []int64{5, 7}, []transfer.Code{transfer.Succeed, transfer.SizeNotMatch}, true)
	writeTask(t, dir.Task("job", workdir.Dispatched, "10.0.0.2", "T3"), "T3", []int64{100, 200, 300}, []transfer.Code{transfer.Succeed}, false)
	if err := record.WriteTask(dir.Task("job", workdir.Pending, "", "T4"), plan.Task{ID: "T4", Objects: []transfer.Object{{Key: "x", Size: 1}}, Bytes: 1}); err != nil {
		t.Fatal(err)
	}

	st, err := ReadStatus(dir, "job")
	if err != nil {
		t.Fatal(err)
	}
	want := JobStatus{State: Running, ScanFinished: true, Pending: 1, Dispatched: 1, Succeed: 1, Failed: 1,
		Objects: Progress{Done: 5, Total: 8}, Bytes: Progress{Done: 10 + 20 + 5 + 100, Total: 30 + 12 + 600 + 1}, FailedObjs: 1}
	if st.State != want.State || st.Pending != want.Pending || st.Dispatched != want.Dispatched || st.Succeed != want.Succeed ||
		st.Failed != want.Failed || st.Objects != want.Objects || st.Bytes != want.Bytes || st.FailedObjs != want.FailedObjs {
		t.Fatalf("status\n got %+v\nwant %+v", st, want)
	}
	if len(st.Running) != 1 || st.Running[0] != (TaskProgress{ID: "T3", Worker: "10.0.0.2", Bytes: Progress{100, 600}, Files: Progress{1, 3}}) {
		t.Errorf("running tasks %+v", st.Running)
	}
	if len(st.FailedTasks) != 1 || st.FailedTasks[0] != "T2" || st.ByCode[string(transfer.SizeNotMatch)] != 1 {
		t.Errorf("failed tasks %v, codes %v", st.FailedTasks, st.ByCode)
	}

	// Once nothing is pending or running, one failed task fails the job.
	os.RemoveAll(dir.Task("job", workdir.Pending, "", "T4"))
	os.RemoveAll(dir.Task("job", workdir.Dispatched, "10.0.0.2", "T3"))
	if st, _ = ReadStatus(dir, "job"); st.State != Failed {
		t.Errorf("state %s, want Failed", st.State)
	}
	os.RemoveAll(dir.Task("job", workdir.Failed, "", "T2"))
	if st, _ = ReadStatus(dir, "job"); st.State != Succeed {
		t.Errorf("state %s, want Succeed", st.State)
	}
	if err := SetState(dir, "job", Abort, "destination bucket deleted"); err != nil {
		t.Fatal(err)
	}
	if st, _ = ReadStatus(dir, "job"); st.State != Abort || st.Reason != "destination bucket deleted" {
		t.Errorf("state %s %q, want Abort with its reason", st.State, st.Reason)
	}
	if _, err := ReadStatus(dir, "nosuchjob"); err == nil {
		t.Error("status of a missing job: no error")
	}
}

func TestScanNotFinished(t *testing.T) {
	dir := workdir.Dir(t.TempDir())
	writeTask(t, dir.Task("job", workdir.Succeed, "", "T1"), "T1", []int64{1}, []transfer.Code{transfer.Succeed}, true)
	st, err := ReadStatus(dir, "job")
	if err != nil || st.State != Running || st.ScanFinished {
		t.Fatalf("status %+v (%v): a job whose scan has not finished is Running", st, err)
	}
}

func TestJobStatusEnded(t *testing.T) {
	for _, tc := range []struct {
		st   JobStatus
		want bool
	}{
		{JobStatus{State: Running}, false},
		{JobStatus{State: Succeed}, true},
		{JobStatus{State: Failed}, true},
		{JobStatus{State: Abort}, true},
		{JobStatus{State: Running, Incremental: true}, false},
		{JobStatus{State: Abort, Incremental: true}, true},
	} {
		if got := tc.st.Ended(); got != tc.want {
			t.Errorf("%s incremental=%v: Ended() = %v, want %v", tc.st.State, tc.st.Incremental, got, tc.want)
		}
	}
}
