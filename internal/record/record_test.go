package record

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

func TestTaskRecords(t *testing.T) {
	tests := []struct {
		name    string
		results []transfer.Result
		status  string
		errList []string
	}{
		{"all copied", []transfer.Result{
			{Object: transfer.Object{Key: "a"}, Code: transfer.Succeed, Size: 3, Bytes: 3, Detail: "size=3"},
			{Object: transfer.Object{Key: "b c"}, Code: transfer.Skipped, Detail: "exists"},
		}, Completed, nil},
		{"one failed", []transfer.Result{
			{Object: transfer.Object{Key: "ok"}, Code: transfer.Succeed, Size: 1},
			{Object: transfer.Object{Key: "dir/changed"}, Code: transfer.SizeNotMatch, Err: errors.New("x"), Detail: "source changed"},
			{Object: transfer.Object{Key: "bad\nname"}, Code: transfer.InvalidName, Detail: "line break"},
		}, Failed, []string{"dir/changed", "bad\nname"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "TASKID_1")
			task := plan.Task{ID: "TASKID_1", Job: "job"}
			for _, r := range tc.results {
				task.Objects = append(task.Objects, r.Object)
			}
			w, err := Create(dir, task)
			if err != nil {
				t.Fatal(err)
			}
			w.now = func() time.Time { return time.Date(2026, 11, 24, 9, 12, 42, 0, time.UTC) }
			for _, r := range tc.results {
				if err := w.Add(r); err != nil {
					t.Fatal(err)
				}
			}
			c, err := w.Close()
			if err != nil {
				t.Fatal(err)
			}
			if c.Objects != int64(len(tc.results)) || c.Failed != int64(len(tc.errList)) {
				t.Errorf("counters %+v", c)
			}
			status, _ := os.ReadFile(filepath.Join(dir, workdir.StatusFile))
			if strings.TrimSpace(string(status)) != tc.status {
				t.Errorf("STATUS %q, want %q", status, tc.status)
			}
			done, err := os.ReadFile(filepath.Join(dir, workdir.DoneFile))
			if err != nil || (tc.status == Failed) != (len(done) == 0) {
				t.Errorf("DONE %q (%v): want empty exactly when failed", done, err)
			}
			audit, _ := os.ReadFile(filepath.Join(dir, workdir.AuditFile))
			lines := strings.Split(strings.TrimSuffix(string(audit), "\n"), "\n")
			re := regexp.MustCompile(`^2026-11-24 09:12:42 (\S+) (.+) Detail:(.*)$`)
			for i, l := range lines {
				m := re.FindStringSubmatch(l)
				if len(m) < 2 || m[1] != string(tc.results[i].Code) {
					t.Errorf("audit line %q does not match the format or code %s", l, tc.results[i].Code)
				}
			}
			keys, err := ReadErrorList(dir)
			if err != nil || !slices.Equal(keys, tc.errList) {
				t.Errorf("error.list keys %q (%v), want %q", keys, err, tc.errList)
			}
			back, err := ReadTask(dir)
			if err != nil || back.ID != task.ID || len(back.Objects) != len(task.Objects) {
				t.Errorf("TASK read back %+v (%v)", back, err)
			}
		})
	}
}

func TestProgressResume(t *testing.T) {
	dir := t.TempDir()
	objs := []transfer.Object{{Key: "a", Size: 1}, {Key: "b", Size: 2}, {Key: "big", Size: 3}, {Key: "c", Size: 4}}
	w, err := Create(dir, plan.Task{ID: "T", Objects: objs})
	if err != nil {
		t.Fatal(err)
	}
	_ = w.Add(transfer.Result{Object: objs[0], Code: transfer.Succeed, Size: 1})
	_ = w.Add(transfer.Result{Object: objs[1], Code: transfer.UploadFailed})
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	// Crash: no Close. A torn line at the end must be ignored.
	f, _ := os.OpenFile(filepath.Join(dir, workdir.FinishedFile), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"k":"c","c":"Succ`)
	f.Close()

	p, err := ReadFinished(dir)
	if err != nil {
		t.Fatal(err)
	}
	todo, done := p.Resume(objs)
	if done != 1 || len(todo) != 3 || todo[0].Key != "b" || todo[1].Key != "big" || todo[2].Key != "c" {
		t.Fatalf("resume: done=%d todo=%+v", done, todo)
	}
	w2, err := Create(dir, plan.Task{ID: "T", Objects: objs})
	if err != nil {
		t.Fatal(err)
	}
	w2.Carry(p, objs)
	for _, o := range todo {
		_ = w2.Add(transfer.Result{Object: o, Code: transfer.Succeed, Size: o.Size})
	}
	c, err := w2.Close()
	if err != nil || c.Copied != 4 || c.Failed != 0 || c.CopiedBytes != 10 {
		t.Fatalf("counters after resume %+v (%v), want 4 copied, 10 bytes", c, err)
	}
}

func TestRequeue(t *testing.T) {
	root := t.TempDir()
	from, to := filepath.Join(root, "failed_tasks", "T"), filepath.Join(root, "pending_tasks", "T")
	objs := []transfer.Object{{Key: "ok", Size: 1}, {Key: "changed", Size: 2, ModTime: time.Unix(5, 0)}, {Key: "broken", Size: 3}}
	w, err := Create(from, plan.Task{ID: "T", Objects: objs})
	if err != nil {
		t.Fatal(err)
	}
	_ = w.Add(transfer.Result{Object: objs[0], Code: transfer.Succeed, Size: 1})
	_ = w.Add(transfer.Result{Object: objs[1], Code: transfer.SizeNotMatch})
	_ = w.Add(transfer.Result{Object: objs[2], Code: transfer.UploadFailed})
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	retry, err := Requeue(from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(retry.Objects) != 2 || retry.Objects[0].Key != "changed" || retry.Objects[0].Size != -1 || !retry.Objects[0].ModTime.IsZero() || retry.Objects[1].Key != "broken" {
		t.Fatalf("retry objects %+v: want changed (re-planned) and broken", retry.Objects)
	}
	if _, err := os.Stat(from); !os.IsNotExist(err) {
		t.Fatalf("failed folder still there: %v", err)
	}
	for _, f := range []string{workdir.StatusFile, workdir.DoneFile} {
		if _, err := os.Stat(filepath.Join(to, f)); !os.IsNotExist(err) {
			t.Errorf("%s left in the requeued folder", f)
		}
	}
	task, err := ReadTask(to)
	if err != nil || len(task.Objects) != 3 || task.Objects[1].Size != -1 {
		t.Fatalf("requeued TASK %+v (%v): all objects kept, the changed one re-planned", task.Objects, err)
	}
}

// TestResumeLeavesTaskFile: resuming a task reads TASK and does not
// write it again (a rewrite is a marshal and an fsync per task run).
func TestResumeLeavesTaskFile(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, plan.Task{ID: "T", Objects: []transfer.Object{{Key: "a", Size: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Add(transfer.Result{Object: transfer.Object{Key: "a"}, Code: transfer.Succeed, Size: 1}); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	before, err := os.Stat(filepath.Join(dir, workdir.TaskFile))
	if err != nil {
		t.Fatal(err)
	}
	w2, task, p, err := Resume(dir)
	if err != nil || task.ID != "T" || p.Finished["a"] != transfer.Succeed {
		t.Fatalf("resume: task %+v progress %+v (%v)", task, p, err)
	}
	after, err := os.Stat(filepath.Join(dir, workdir.TaskFile))
	if err != nil || !os.SameFile(before, after) {
		t.Errorf("TASK was written again by Resume (%v)", err)
	}
	if c, err := w2.Close(); err != nil || c.Copied != 1 {
		t.Errorf("counters %+v (%v), want the carried object", c, err)
	}
}

// TestSuspendKeepsWhatWasRecorded: a suspended task has its audit lines
// on disk and no STATUS or DONE.
func TestSuspendKeepsWhatWasRecorded(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, plan.Task{ID: "T", Objects: []transfer.Object{{Key: "a", Size: 1}, {Key: "b", Size: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	_ = w.Add(transfer.Result{Object: transfer.Object{Key: "a"}, Code: transfer.Succeed, Size: 1})
	if err := w.Suspend(); err != nil {
		t.Fatal(err)
	}
	if audit, _ := os.ReadFile(filepath.Join(dir, workdir.AuditFile)); !strings.Contains(string(audit), " Succeed a ") {
		t.Errorf("audit.log after Suspend: %q", audit)
	}
	for _, f := range []string{workdir.StatusFile, workdir.DoneFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); !os.IsNotExist(err) {
			t.Errorf("%s written by Suspend", f)
		}
	}
}

// TestSizeOnlyCountedAndCheckLogged: objects verified by size alone are
// counted (and merged), and every verified object's audit.log line ends
// with the check it passed.
func TestSizeOnlyCountedAndCheckLogged(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, plan.Task{ID: "t", Objects: []transfer.Object{{Key: "a"}, {Key: "b"}, {Key: "c"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []transfer.Result{
		{Object: transfer.Object{Key: "a"}, Code: transfer.Succeed, Check: transfer.CheckCRC64},
		{Object: transfer.Object{Key: "b"}, Code: transfer.Succeed, Check: transfer.CheckSizeOnly},
		{Object: transfer.Object{Key: "c"}, Code: transfer.AuditOK, Check: transfer.CheckSizeOnly},
	} {
		if err := w.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	c, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	if c.SizeOnly != 2 {
		t.Errorf("SizeOnly = %d, want 2", c.SizeOnly)
	}
	var sum Counters
	sum.Merge(c)
	sum.Merge(c)
	if sum.SizeOnly != 4 {
		t.Errorf("merged SizeOnly = %d, want 4", sum.SizeOnly)
	}
	data, err := os.ReadFile(filepath.Join(dir, workdir.AuditFile))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 3 || !strings.HasSuffix(lines[0], " a Detail: Check:crc64") || !strings.HasSuffix(lines[1], " Check:size-only") {
		t.Errorf("audit.log:\n%s", data)
	}
}
