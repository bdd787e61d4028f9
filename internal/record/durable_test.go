package record

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// auditCounts counts audit.log lines per key (the third field).
func auditCounts(t *testing.T, dir string) map[string]int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, workdir.AuditFile))
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for line := range strings.Lines(string(data)) {
		if f := strings.Fields(line); len(f) >= 4 {
			n[f[3]]++
		} else {
			t.Fatalf("torn audit line %q", line)
		}
	}
	return n
}

// TestCommitOrder: nothing reaches progress.jsonl before Commit, and
// after it every object the progress holds has its audit.log line: a
// process killed at any point never leaves an object counted as recorded
// without its line.
func TestCommitOrder(t *testing.T) {
	dir := t.TempDir()
	objs := []transfer.Object{{Key: "a"}, {Key: "b"}, {Key: "c"}}
	w, err := Create(dir, plan.Task{ID: "T", Objects: objs})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs[:2] {
		if err := w.Add(transfer.Result{Object: o, Code: transfer.Succeed}); err != nil {
			t.Fatal(err)
		}
	}
	if p, _ := ReadFinished(dir); len(p.Finished) != 0 {
		t.Fatalf("progress written before Commit: %v", p.Finished)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	p, _ := ReadFinished(dir)
	counts := auditCounts(t, dir)
	if len(p.Finished) != 2 {
		t.Fatalf("progress after Commit: %v", p.Finished)
	}
	for k := range p.Finished {
		if counts[k] != 1 {
			t.Errorf("%s is in the progress with %d audit lines", k, counts[k])
		}
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestResumeDropsUncommittedLines: a batch killed after its audit lines
// reached the disk but before its progress did is recorded again on
// resume, and each object ends with exactly one line.
func TestResumeDropsUncommittedLines(t *testing.T) {
	dir := t.TempDir()
	objs := []transfer.Object{{Key: "a"}, {Key: "b"}, {Key: "c"}, {Key: "d"}}
	w, err := Create(dir, plan.Task{ID: "T", Objects: objs})
	if err != nil {
		t.Fatal(err)
	}
	add := func(w *Writer, o transfer.Object) {
		if err := w.Add(transfer.Result{Object: o, Code: transfer.Succeed}); err != nil {
			t.Fatal(err)
		}
	}
	// Killed before the first commit, with audit lines on disk (the
	// buffer filled up): they are dropped on resume.
	add(w, objs[0])
	if err := w.auditW.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := w.Suspend(); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(filepath.Join(dir, workdir.FinishedFile), 0); err != nil {
		t.Fatal(err)
	}
	w, _, _, err = Resume(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n := auditCounts(t, dir); len(n) != 0 {
		t.Fatalf("audit lines without progress kept: %v", n)
	}
	add(w, objs[0])
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	add(w, objs[1])
	add(w, objs[2])
	// Killed between the two steps of Commit: audit.log flushed (a torn
	// last line too), the progress not.
	if err := w.auditW.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.audit.WriteString("2026-01-01 00:00:00 Succ"); err != nil {
		t.Fatal(err)
	}
	w.audit.Close()
	w.errF.Close()
	w.progF.Close()

	w2, task, p, err := Resume(dir)
	if err != nil {
		t.Fatal(err)
	}
	todo, done := p.Resume(task.Objects)
	if done != 1 || len(todo) != 3 {
		t.Fatalf("resume: %d done, %d to do", done, len(todo))
	}
	for _, o := range todo {
		add(w2, o)
	}
	c, err := w2.Close()
	if err != nil {
		t.Fatal(err)
	}
	if c.Copied != 4 {
		t.Errorf("copied %d, want 4", c.Copied)
	}
	counts := auditCounts(t, dir)
	for _, o := range objs {
		if counts[o.Key] != 1 {
			t.Errorf("%s has %d audit lines, want 1 (%v)", o.Key, counts[o.Key], counts)
		}
	}
}
