package console

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// onTerminal runs a shell command line in the home on a pseudo-terminal
// (util-linux script) of 120x50, skipping the test when script is
// missing.
func (h *testHome) onTerminal(env []string, command string) result {
	h.t.Helper()
	if _, err := exec.LookPath("script"); err != nil {
		h.t.Skip("no script(1) to run on a terminal")
	}
	return h.run("", env, "script", "-qec", "stty cols 120 rows 50; "+command, "/dev/null")
}

// TestImportScriptLive: on a terminal, import.sh follows the job with the
// live view (redrawn in place) and still ends as before.
func TestImportScriptLive(t *testing.T) {
	h := newTestHome(t, "", "")
	h.installScripts()
	files := h.writeFiles(h.src, 30, 16, 0)
	r := h.onTerminal([]string{"IMPORT_POLL_SECONDS=1", "IMPORT_WATCH_SECONDS=1"}, "bash import.sh --yes")
	out := strings.ReplaceAll(r.stdout, "\r\n", "\n")
	for _, want := range []string{"submit job:", "\x1b[H", "Every 1s: ossimport console stat local_test", "JobState:Succeed",
		"Import to oss completed.\nStop import service, Yes or No: yes\nStop import service completed.\n"} {
		if !strings.Contains(out, want) {
			t.Fatalf("import.sh on a terminal: no %q in %s%s", want, r, h.logs())
		}
	}
	if r.code != 0 {
		t.Fatalf("import.sh on a terminal: %s", r)
	}
	h.checkCopied(h.dst, files)
	data, err := os.ReadFile(filepath.Join(h.dir, "logs", "job_stat.log"))
	if err != nil || !strings.Contains(string(data), "JobState:Succeed\n") {
		t.Fatalf("logs/job_stat.log: %q %v", data, err)
	}
	for _, log := range []string{"master.log", "tracker.log", "worker.log"} {
		if info, err := os.Stat(filepath.Join(h.dir, "logs", log)); err != nil || info.Size() == 0 {
			t.Errorf("logs/%s: %v", log, err)
		}
	}
	if tracker, _ := os.ReadFile(filepath.Join(h.dir, "logs", "tracker.log")); !strings.Contains(string(tracker), "task done") {
		t.Errorf("tracker.log holds no filed task:\n%s", tracker)
	}
}

// TestRunLiveBars: `ossimport run` on a terminal draws bars and ends with
// them complete, then prints the summary.
func TestRunLiveBars(t *testing.T) {
	h := newTestHome(t, "", "")
	files := h.writeFiles(h.src, 25, 16, 0)
	r := h.onTerminal(nil, fmt.Sprintf("%s run %s --sys %s", ossimportBin, h.job, h.sys))
	out := strings.ReplaceAll(r.stdout, "\r\n", "\n")
	if r.code != 0 {
		t.Fatalf("run on a terminal: %s", r)
	}
	for _, want := range []string{"local_test: scan finished, 25 listed", "25/25", "failed 0", "copied and verified: 25"} {
		if !strings.Contains(out, want) {
			t.Errorf("run on a terminal: no %q in\n%s", want, out)
		}
	}
	if !strings.Contains(out, "objects") || !strings.Contains(out, "[===") {
		t.Errorf("run on a terminal drew no bars:\n%s", out)
	}
	h.checkCopied(h.dst, files)
}
