package console

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/workdir"
)

// TestRetryWhileStoppedAndInvalidNames: a job with an object whose name
// can never be copied (not UTF-8) and one that fails for a cause the
// operator can fix ends Failed. With the service stopped, retry queues
// the fixable task only, says the name needs renaming, and leaves the
// counters truthful (stat shows the task pending); the next start copies
// it, and the job ends Failed with only the bad name. audit.log stays
// UTF-8 text with the name escaped and the real fix in its detail.
func TestRetryWhileStoppedAndInvalidNames(t *testing.T) {
	h := newTestHome(t, "", "taskObjectCountLimit=1\n")
	files := h.writeFiles(h.src, 5, 10, 0)
	badName := "bad\xc4\xe3name.txt" // a GBK name
	h.write(filepath.Join(h.src, badName), "a legacy encoding\n")
	h.write(filepath.Join(h.src, "blocked.txt"), "blocked by a folder at the destination\n")
	if err := os.MkdirAll(filepath.Join(h.dst, "blocked.txt", "in-the-way"), 0o755); err != nil {
		t.Fatal(err)
	}
	h.mustConsole("", "submit", h.job)
	h.mustConsole("Start import service completed.\n", "start")
	out := h.waitState("local_test", "Failed", 30*time.Second)
	if !strings.Contains(out, "Failed Task Count:2\n") || !strings.Contains(out, `InvalidName "bad\xc4\xe3name.txt" Detail:`) {
		t.Fatalf("stat of the failed job:\n%s", out)
	}
	badTask, blockedTask := failedTaskOf(t, h, badName), failedTaskOf(t, h, "blocked.txt")
	audit, _ := os.ReadFile(filepath.Join(h.workdir().Task("local_test", workdir.Failed, "", badTask), workdir.AuditFile))
	if !utf8.Valid(audit) || !strings.Contains(string(audit), ` InvalidName "bad\xc4\xe3name.txt" Detail:`) ||
		!strings.Contains(string(audit), "convmv") || strings.Contains(string(audit), "LANG") {
		t.Fatalf("audit.log of the bad name's task is not UTF-8 text with the name escaped and the real fix:\n%q", audit)
	}

	// Stopped: retry queues the fixable task for the next start.
	h.mustConsole("Stop import service completed.\n", "stop")
	r := h.mustConsole("", "retry", "local_test")
	for _, want := range []string{"Retry has been submitted.\n", "1 objects are not retried", "Rename them at the source",
		filepath.Join(badTask, workdir.ErrorFile), "the tasks run when it is started"} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("retry while stopped: want %q in\n%s", want, r)
		}
	}
	if !strings.HasPrefix(r.stdout, "Retry has been submitted.\n") {
		t.Fatalf("retry while stopped: ossimport's first line missing:\n%s", r)
	}
	st := h.mustConsole("", "stat", "local_test").stdout
	if !strings.Contains(st, "Pending Task Count:1\n") || !strings.Contains(st, "Failed Task Count:1\n") || !strings.Contains(st, "JobState:Running (no master since ") {
		t.Fatalf("stat after the retry while stopped (the counters must follow):\n%s", st)
	}
	if doc, ok := tracker.ReadCounters(h.workdir(), "local_test"); !ok || doc.Clean || doc.Pending != 1 || doc.Failed != 1 {
		t.Fatalf("COUNTERS after the retry while stopped: %+v (%v); want rebuilt, 1 pending, 1 failed, not clean", doc, ok)
	}
	if _, err := os.Stat(filepath.Join(h.workdir().Task("local_test", workdir.Pending, "", blockedTask), "RETRIES")); err != nil {
		t.Fatalf("the fixable task is not pending: %v", err)
	}
	if _, err := os.Stat(filepath.Join(h.workdir().Task("local_test", workdir.Failed, "", badTask), "RETRIES")); err == nil {
		t.Fatal("the task whose only failure is the bad name was requeued")
	}

	// The operator removes what was in the way and starts the service.
	if err := os.RemoveAll(filepath.Join(h.dst, "blocked.txt")); err != nil {
		t.Fatal(err)
	}
	h.mustConsole("Start import service completed.\n", "start")
	h.waitFor(30*time.Second, "the retried task to succeed", func() bool {
		_, state, err := tracker.Locate(h.workdir(), "local_test", blockedTask)
		return err == nil && state == workdir.Succeed
	})
	out = h.waitState("local_test", "Failed", 30*time.Second)
	if !strings.Contains(out, "Failed Task Count:1\n") || !strings.Contains(out, "FailedTask:"+badTask) {
		t.Fatalf("stat after the retry:\n%s", out)
	}
	files["blocked.txt"] = []byte("blocked by a folder at the destination\n")
	h.checkCopied(h.dst, files)

	// Running: nothing left that a retry can copy.
	r = h.mustConsole("", "retry", "local_test")
	if !strings.HasPrefix(r.stdout, "No failed task can be retried for job:local_test.\n") || !strings.Contains(r.stdout, "Rename them") {
		t.Fatalf("retry of a job failed only by a bad name:\n%s", r)
	}
	var js []tracker.JobStatus
	if err := json.Unmarshal([]byte(h.mustConsole("", "stat", "local_test", "--json").stdout), &js); err != nil || len(js) != 1 ||
		js[0].State != tracker.Failed || js[0].ByCode["InvalidName"] != 1 || js[0].FailedObjs != 1 {
		t.Fatalf("stat --json after the retries: %+v (%v)", js, err)
	}
}

// failedTaskOf returns the failed task of local_test whose error.list
// holds key.
func failedTaskOf(t *testing.T, h *testHome, key string) string {
	t.Helper()
	for _, id := range h.taskDirs("local_test", workdir.Failed) {
		keys, _ := record.ReadErrorList(h.workdir().Task("local_test", workdir.Failed, "", id))
		for _, k := range keys {
			if k == key {
				return id
			}
		}
	}
	t.Fatalf("no failed task lists %q", key)
	return ""
}

// TestVerbsNameMissingJobs: clean and retry of a job never submitted
// name it and fail; "stat detail" is stat.
func TestVerbsNameMissingJobs(t *testing.T) {
	h := newTestHome(t, "", "")
	h.writeFiles(h.src, 3, 10, 0)
	h.mustConsole("", "submit", h.job)
	for _, verb := range []string{"clean", "retry", "Clean", "Retry"} {
		r := h.console(verb, "nosuchjob")
		if r.code != 1 || !strings.Contains(r.stderr, "no job named nosuchjob") || !strings.Contains(r.stderr, "local_test") ||
			strings.Contains(r.stdout, "completed") || strings.Contains(r.stdout, "None failed tasks") {
			t.Errorf("%s nosuchjob: want exit 1 naming the job and the jobs there are, got %s", verb, r)
		}
	}
	plain := h.mustConsole("", "stat").stdout
	for _, args := range [][]string{{"stat", "detail"}, {"Stat", "detail"}, {"stat", "detail", "local_test"}} {
		if got := h.mustConsole("", args...).stdout; got != plain || !strings.Contains(got, "JobName:local_test\n") {
			t.Errorf("%v:\n%s\nwant what stat prints:\n%s", args, got, plain)
		}
	}
	if r := h.console("stat", "a_job", "b_job"); r.code != 1 {
		t.Errorf("stat with two job names: %s", r)
	}
	h.mustConsole("None failed tasks for job:local_test.\n", "retry", "local_test")
	h.mustConsole("Clean job:local_test completed.\n", "clean", "local_test")
	if r := h.console("clean", "local_test"); r.code != 1 || !strings.Contains(r.stderr, "no job named local_test") {
		t.Errorf("clean of a cleaned job: %s", r)
	}
}
