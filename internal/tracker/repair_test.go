package tracker

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// TestRepairRestoresDamagedTasks: a TASK file corrupted in a finished
// task, a TASK file missing from a pending task and a task folder
// deleted outright are all restored from the plan log (the lost one as
// pending, to be queued again); the finished task keeps its progress and
// state; the counters file is dropped for a rebuild; a damaged folder the
// plan log does not know is reported by path.
func TestRepairRestoresDamagedTasks(t *testing.T) {
	dir := workdir.Dir(t.TempDir())
	tasks := []string{"T1", "T2", "T3", "T4"}
	for _, id := range tasks {
		if _, _, err := FilePlanned(dir, task(id, 3)); err != nil {
			t.Fatal(err)
		}
	}
	// T1 succeeds, then its TASK is corrupted.
	if err := Dispatch(dir, "job", "T1", "w"); err != nil {
		t.Fatal(err)
	}
	res := protocol.TaskResult{Job: "job", TaskID: "T1", Worker: "w", Finished: time.Now()}
	for _, o := range task("T1", 3).Objects {
		res.Objects = append(res.Objects, protocol.FromResult(transfer.Result{Object: o, Code: transfer.Succeed, Size: o.Size}, time.Now()))
	}
	if _, err := Apply(dir, res); err != nil {
		t.Fatal(err)
	}
	t1 := dir.Task("job", workdir.Succeed, "", "T1")
	if err := os.WriteFile(filepath.Join(t1, workdir.TaskFile), []byte(`{"id":"T1","objects":[{"k":`), 0o644); err != nil {
		t.Fatal(err)
	}
	// T2's folder is deleted; T3's TASK is missing.
	if err := os.RemoveAll(dir.Task("job", workdir.Pending, "", "T2")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir.Task("job", workdir.Pending, "", "T3"), workdir.TaskFile)); err != nil {
		t.Fatal(err)
	}
	// A folder the plan log does not know, with a torn TASK.
	stray := dir.Task("job", workdir.Failed, "", "T9")
	if err := workdir.WriteFile(filepath.Join(stray, workdir.TaskFile), []byte("{")); err != nil {
		t.Fatal(err)
	}
	if err := workdir.WriteFile(filepath.Join(dir.Job("job"), workdir.CountersFile), []byte("{}")); err != nil {
		t.Fatal(err)
	}
	// A pending folder without its TASK is one the service died while
	// filing: not damage (planning writes it again), but restored too.
	if tl, _, err := Scan(dir, "job"); err != nil || len(tl.Damaged) != 2 {
		t.Fatalf("scan before the repair: damaged %v (%v), want T1 and T9", tl.Damaged, err)
	}

	damages, requeue, err := Repair(dir, "job")
	if err != nil {
		t.Fatal(err)
	}
	byTask := map[string]Damage{}
	for _, d := range damages {
		byTask[d.Task] = d
	}
	if d := byTask["T1"]; !d.Restored || d.Requeue || d.Path != t1 || !strings.Contains(d.Problem, "unreadable") {
		t.Errorf("T1: %+v", d)
	}
	if d := byTask["T2"]; !d.Restored || !d.Requeue || d.Path != dir.Task("job", workdir.Pending, "", "T2") {
		t.Errorf("T2: %+v", d)
	}
	if d := byTask["T3"]; !d.Restored || d.Requeue || !strings.Contains(d.Problem, "missing") {
		t.Errorf("T3: %+v", d)
	}
	if d := byTask["T9"]; d.Restored || d.Path != stray || !strings.Contains(d.String(), filepath.Join(stray, workdir.TaskFile)) {
		t.Errorf("T9: %+v", d)
	}
	if len(damages) != 4 || len(requeue) != 1 || requeue[0].ID != "T2" || !reflect.DeepEqual(requeue[0], task("T2", 3)) {
		t.Fatalf("damages %+v, requeue %+v", damages, requeue)
	}
	for _, id := range []string{"T1", "T2", "T3", "T4"} {
		path, _, err := Locate(dir, "job", id)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := record.ReadTask(path); err != nil || !reflect.DeepEqual(got, task(id, 3)) {
			t.Errorf("%s after the repair: %+v (%v)", id, got, err)
		}
	}
	if p, _ := record.ReadFinished(t1); len(p.Finished) != 3 {
		t.Errorf("T1 lost its progress: %v", p.Finished)
	}
	if _, err := os.Stat(filepath.Join(dir.Job("job"), workdir.CountersFile)); !os.IsNotExist(err) {
		t.Errorf("the counters file was kept: %v", err)
	}
	tl, _, err := Scan(dir, "job")
	if err != nil || tl.Objects != 12 || tl.Succeed != 1 || tl.Pending != 3 || len(tl.Damaged) != 1 {
		t.Fatalf("scan after the repair: %+v (%v)", tl, err)
	}
	// A second repair finds only the folder it cannot restore.
	if damages, requeue, err := Repair(dir, "job"); err != nil || len(damages) != 1 || len(requeue) != 0 {
		t.Fatalf("second repair: %+v %+v (%v)", damages, requeue, err)
	}
}
