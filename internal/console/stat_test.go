package console

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

func statOutput(t *testing.T, sys string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := Execute(append([]string{"console", "stat", "--sys", sys}, args...), &stdout, &stderr); code != 0 {
		t.Fatalf("stat exit %d: %s", code, stderr.String())
	}
	return stdout.String()
}

func TestStat(t *testing.T) {
	work := t.TempDir()
	sys := filepath.Join(work, "sys.properties")
	if err := os.WriteFile(sys, []byte("workingDir="+work+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := statOutput(t, sys); strings.TrimSpace(out) != "no jobs is running or finished." {
		t.Fatalf("stat without jobs: %q", out)
	}

	dir := workdir.Dir(work)
	if err := workdir.SaveCheckpoint(dir.Checkpoint("local_test"), &plan.Checkpoint{Job: "local_test", Done: true}); err != nil {
		t.Fatal(err)
	}
	task := plan.Task{ID: "AB12_1", Job: "local_test", Objects: []transfer.Object{{Key: "a", Size: 3}, {Key: "b", Size: 4}}, Bytes: 7}
	w, err := record.Create(dir.Task("local_test", workdir.Failed, "", task.ID), task)
	if err != nil {
		t.Fatal(err)
	}
	_ = w.Add(transfer.Result{Object: task.Objects[0], Code: transfer.Succeed, Size: 3})
	_ = w.Add(transfer.Result{Object: task.Objects[1], Code: transfer.SourceNotFound, Detail: "gone"})
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}

	out := statOutput(t, sys)
	for _, line := range []string{"JobName:local_test", "JobState:Failed", "Failed Task Count:1", "Is Scan Finished:true",
		"Objects:2/2 Failed:1", "FailedTask:AB12_1 causes in " + filepath.Join(dir.Task("local_test", workdir.Failed, "", "AB12_1"), "audit.log")} {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("stat output lacks %q:\n%s", line, out)
		}
	}
	var jobs []tracker.JobStatus
	if err := json.Unmarshal([]byte(statOutput(t, sys, "--json", "local_test")), &jobs); err != nil || len(jobs) != 1 || jobs[0].State != tracker.Failed {
		t.Fatalf("stat --json: %+v (%v)", jobs, err)
	}
}

func TestRunWithoutJobFileSaysWhatToDo(t *testing.T) {
	t.Setenv("OSS_IMPORT_HOME", t.TempDir())
	var stdout, stderr bytes.Buffer
	if code := Execute([]string{"run"}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "give the job file as an argument") {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
}
