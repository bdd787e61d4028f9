package tracker

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// TestApplyPartial: a partial result records its successes once and
// leaves the task unfinished; the final result (the next delivery's,
// with those objects skipped) finishes it, counting each object once.
func TestApplyPartial(t *testing.T) {
	dir := workdir.Dir(t.TempDir())
	task := plan.Task{ID: "T1", Job: "job", Objects: []transfer.Object{{Key: "a", Size: 1}, {Key: "b", Size: 2}, {Key: "c", Size: 3}}, Bytes: 6}
	if err := record.WriteTask(dir.Task("job", workdir.Pending, "", "T1"), task); err != nil {
		t.Fatal(err)
	}
	if err := Dispatch(dir, "job", "T1", "10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	result := func(i int, code transfer.Code) protocol.ObjectResult {
		return protocol.FromResult(transfer.Result{Object: task.Objects[i], Code: code, Size: task.Objects[i].Size}, now)
	}
	partial := protocol.TaskResult{Job: "job", TaskID: "T1", Worker: "10.0.0.1", Partial: true,
		Objects: []protocol.ObjectResult{result(0, transfer.Succeed), result(1, transfer.UploadFailed)}}
	for range 2 { // a redelivered partial result changes nothing
		if _, err := Apply(dir, partial); err != nil {
			t.Fatal(err)
		}
	}
	path, state, _ := Locate(dir, "job", "T1")
	if state != workdir.Dispatched {
		t.Fatalf("a partial result moved the task to %s", state)
	}
	for _, f := range []string{workdir.StatusFile, workdir.DoneFile, workdir.WorkerFile} {
		if _, err := os.Stat(filepath.Join(path, f)); err == nil {
			t.Errorf("a partial result wrote %s", f)
		}
	}
	final := protocol.TaskResult{Job: "job", TaskID: "T1", Worker: "10.0.0.2",
		Objects: []protocol.ObjectResult{result(0, transfer.Skipped), result(1, transfer.Succeed), result(2, transfer.Succeed)}}
	c, err := Apply(dir, final)
	if err != nil || c.Copied != 3 || c.Skipped != 0 || c.Failed != 0 {
		t.Fatalf("final counters %+v (%v), want 3 copied", c, err)
	}
	path, state, _ = Locate(dir, "job", "T1")
	audit, _ := os.ReadFile(filepath.Join(path, workdir.AuditFile))
	if state != workdir.Succeed || strings.Count(string(audit), "\n") != 3 || strings.Contains(string(audit), "Skipped") || strings.Contains(string(audit), "UploadFailed") {
		t.Fatalf("state %s, audit.log:\n%s", state, audit)
	}
	// A late partial result of the finished task changes nothing.
	if _, err := Apply(dir, partial); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(filepath.Join(path, workdir.AuditFile)); string(again) != string(audit) {
		t.Fatalf("a late partial result wrote to a finished task:\n%s", again)
	}
}
