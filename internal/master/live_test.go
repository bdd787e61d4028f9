package master_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/testenv"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/transfer"
)

// waitStatus polls stat until ok accepts the job's status.
func (c *cluster) waitStatus(job, what string, ok func(tracker.JobStatus) bool) tracker.JobStatus {
	c.t.Helper()
	var st tracker.JobStatus
	testenv.Wait(c.t, 30*time.Second, "job "+job+": "+what, func() bool {
		var err error
		st, err = tracker.ReadStatus(c.dir, job)
		return err == nil && ok(st)
	}, func() string { return fmt.Sprintf("last status %+v", st) })
	return st
}

// TestStatShowsBytesMovingWithinATask: a worker (played by the test)
// reports a large object's bytes as they are read; stat, reading only the
// counters file, shows the job's bytes done grow while the object is in
// flight, and the result replaces the in-flight bytes without counting
// them twice.
func TestStatShowsBytesMovingWithinATask(t *testing.T) {
	c := newCluster(t)
	const size = 1 << 20
	if err := os.WriteFile(filepath.Join(c.src, "big.bin"), make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
	c.startMaster()
	c.submit("live_job", "")
	c.waitStatus("live_job", "the task planned", func(st tracker.JobStatus) bool { return st.ScanFinished && st.Pending == 1 })

	w := c.connect("10.0.0.7")
	msg, err := w.NextTask(c.ctx, "10.0.0.7")
	if err != nil {
		t.Fatal(err)
	}
	data, err := msg.Data()
	if err != nil {
		t.Fatal(err)
	}
	var task plan.Task
	if err := json.Unmarshal(data, &task); err != nil || len(task.Objects) != 1 {
		t.Fatalf("task %+v (%v)", task, err)
	}
	report := func(bytes int64) {
		p, _ := json.Marshal(protocol.TaskProgress{Job: "live_job", TaskID: task.ID, Worker: "10.0.0.7",
			FilesTotal: 1, BytesTotal: size, BytesDone: bytes})
		if err := w.PublishProgress("live_job", task.ID, "10.0.0.7", p); err != nil {
			t.Fatal(err)
		}
	}
	for _, done := range []int64{size / 4, size / 2, 3 * size / 4} {
		report(done)
		st := c.waitStatus("live_job", "bytes in flight", func(st tracker.JobStatus) bool { return st.Bytes.Done == done })
		if st.Dispatched != 1 || st.Objects.Done != 0 || len(st.Running) != 1 || st.Running[0].Bytes != (tracker.Progress{Done: done, Total: size}) {
			t.Fatalf("with %d bytes in flight: %+v", done, st)
		}
		// stat read the counters file, not the task's PROGRESS file.
		if doc, ok := tracker.ReadCounters(c.dir, "live_job"); !ok || len(doc.Running) != 1 || doc.Running[0].Bytes.Done != done {
			t.Fatalf("counters file %+v", doc)
		}
	}
	res := protocol.TaskResult{Job: "live_job", TaskID: task.ID, Worker: "10.0.0.7", Finished: time.Now(),
		Objects: []protocol.ObjectResult{protocol.FromResult(transfer.Result{Object: task.Objects[0], Code: transfer.Succeed, Size: size, Bytes: size}, time.Now())}}
	out, _ := json.Marshal(res)
	if err := w.PublishResult(c.ctx, "live_job", task.ID, out); err != nil {
		t.Fatal(err)
	}
	if err := msg.Ack(); err != nil {
		t.Fatal(err)
	}
	st := c.waitState("live_job", tracker.Succeed)
	if st.Bytes != (tracker.Progress{Done: size, Total: size}) || len(st.Running) != 0 || st.Counters.Copied != 1 || st.Counters.CopiedBytes != size {
		t.Fatalf("after the result: %+v", st)
	}
}
