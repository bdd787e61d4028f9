package workdir

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ossimport/ossimport/internal/plan"
)

func TestWriteFileIsAtomicAndCreatesFolders(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a", "b", "FILE")
	for _, data := range []string{"first", "second"} {
		if err := WriteFile(path, []byte(data)); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(path); string(got) != data {
			t.Errorf("read back %q, want %q", got, data)
		}
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}

func TestMoveReplacesAStaleTarget(t *testing.T) {
	root := t.TempDir()
	from, to := filepath.Join(root, Pending, "T"), filepath.Join(root, Succeed, "T")
	for dir, file := range map[string]string{from: "new", to: "stale"} {
		if err := WriteFile(filepath.Join(dir, file), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := Move(from, to); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(to, "new")); err != nil {
		t.Errorf("moved folder missing: %v", err)
	}
	if _, err := os.Stat(filepath.Join(to, "stale")); !os.IsNotExist(err) {
		t.Errorf("stale copy kept: %v", err)
	}
	if got := Subdirs(filepath.Join(root, Pending)); len(got) != 0 {
		t.Errorf("source folder left: %v", got)
	}
}

func TestCheckpoints(t *testing.T) {
	d := Dir(t.TempDir())
	path := d.Checkpoint("job1")
	if !regexp.MustCompile(`/master/jobs/job1/checkpoints/0/[0-9a-f]{32}\.cpt$`).MatchString(filepath.ToSlash(path)) {
		t.Errorf("checkpoint path %s", path)
	}
	if cp, err := LoadCheckpoint(path); cp != nil || err != nil {
		t.Fatalf("missing checkpoint: %v %v, want nil, nil", cp, err)
	}
	if err := SaveCheckpoint(path, &plan.Checkpoint{Job: "job1", Round: 2, Done: true}); err != nil {
		t.Fatal(err)
	}
	if cp, err := LoadCheckpoint(path); err != nil || cp.Job != "job1" || cp.Round != 2 || !cp.Done {
		t.Fatalf("checkpoint read back %+v (%v)", cp, err)
	}
	if err := os.WriteFile(path, []byte("{torn"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCheckpoint(path); err == nil || !strings.Contains(err.Error(), "delete it") {
		t.Errorf("corrupt checkpoint: %v, want an error saying what to do", err)
	}
}

func TestSubdirsSortedFoldersOnly(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{"b/", "a/", "file"} {
		if strings.HasSuffix(p, "/") {
			os.Mkdir(filepath.Join(root, p), 0o755)
		} else {
			os.WriteFile(filepath.Join(root, p), nil, 0o644)
		}
	}
	if got := Subdirs(root); strings.Join(got, ",") != "a,b" {
		t.Errorf("Subdirs = %q, want a,b", got)
	}
	if got := Subdirs(filepath.Join(root, "missing")); got != nil {
		t.Errorf("Subdirs of a missing folder = %q", got)
	}
}

// EachJSONLine hands over every whole line and skips a torn one; a
// missing file has none.
func TestEachJSONLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.jsonl")
	if err := os.WriteFile(path, []byte("{\"n\":1}\n{\"n\":2}\n{\"n\":"), 0o644); err != nil {
		t.Fatal(err)
	}
	var got []int
	if err := EachJSONLine(path, 1<<10, func(v struct{ N int }) { got = append(got, v.N) }); err != nil || len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Fatalf("lines %v, %v; want 1 and 2 without the torn one", got, err)
	}
	calls := 0
	if err := EachJSONLine(path+".missing", 1<<10, func(struct{}) { calls++ }); err != nil || calls != 0 {
		t.Fatalf("missing file: %d lines, %v", calls, err)
	}
}
