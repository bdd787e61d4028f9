package console

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/testenv"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/workdir"
)

// TestServiceIncrementalRounds: an incremental job under `console start`
// copies the full pass, then in later rounds the files added and changed
// since (a deleted source file stays at the destination); stat never
// shows it finished; a service restarted between rounds keeps counting
// rounds instead of starting the full pass again.
func TestServiceIncrementalRounds(t *testing.T) {
	h := newTestHome(t, "", "isIncremental=true\nincrementalModeInterval=1\n")
	files := h.writeFiles(h.src, 12, 32, 0)
	h.mustConsole("", "submit", h.job)
	h.mustConsole("Start import service completed.\n", "start")
	status := func() tracker.JobStatus { st, _ := tracker.ReadStatus(h.workdir(), "local_test"); return st }
	checkpoint := func() *plan.Checkpoint {
		cp, _ := workdir.LoadCheckpoint(h.workdir().Checkpoint("local_test"))
		if cp == nil {
			return &plan.Checkpoint{}
		}
		return cp
	}
	testenv.Wait(t, time.Minute, "the full pass", func() bool { return status().ByCode["Succeed"] == 12 }, h.logs)
	out := h.mustConsole("", "stat").stdout
	if strings.Contains(out, "JobState:Succeed") || strings.Contains(out, "Is Scan Finished:true") {
		t.Errorf("stat shows the incremental job finished:\n%s", out)
	}

	// Changes at the source, seen by a later round.
	files["new/added.txt"] = []byte("added after the full pass")
	h.write(filepath.Join(h.src, "new/added.txt"), string(files["new/added.txt"]))
	files["d1/f001.txt"] = []byte("changed after the full pass, longer than before")
	h.write(filepath.Join(h.src, "d1/f001.txt"), string(files["d1/f001.txt"]))
	if err := os.Remove(filepath.Join(h.src, "d2/f002.txt")); err != nil {
		t.Fatal(err)
	}
	testenv.Wait(t, time.Minute, "a later round copying the added and changed files", func() bool {
		got, err := os.ReadFile(filepath.Join(h.dst, "d1/f001.txt"))
		return err == nil && string(got) == string(files["d1/f001.txt"]) && status().ByCode["Succeed"] == 14
	}, h.logs)
	h.checkCopied(h.dst, files) // d2/f002.txt is still there, with its bytes

	h.mustConsole("Stop import service completed.\n", "stop")
	round := checkpoint().Round
	if round < 1 {
		t.Fatalf("round %d after the changes were copied", round)
	}
	h.mustConsole("Start import service completed.\n", "start")
	testenv.Wait(t, time.Minute, "a round after the restart", func() bool { return checkpoint().Round > round }, h.logs)
	st := status()
	if st.ByCode["Succeed"] != 14 || st.State != tracker.Running || st.ScanFinished {
		t.Errorf("after the restart: %+v; want the 14 copies counted once, the job running, the scan never finished", st)
	}
	if n := fullPassObjects(t, h); n != 12 {
		t.Errorf("%d objects planned in the full pass after the restart, want the 12 of the first one", n)
	}
	h.mustConsole("Stop import service completed.\n", "stop")
	imp, _ := os.ReadFile(filepath.Join(h.dir, "logs", "import.log"))
	for _, want := range []string{`msg="incremental round started" job=local_test round=1`, `msg="next incremental round"`} {
		if !strings.Contains(string(imp), want) {
			t.Errorf("import.log lacks %s:\n%s", want, imp)
		}
	}
}

// fullPassObjects counts the objects of the job's round-0 tasks.
func fullPassObjects(t *testing.T, h *testHome) int {
	t.Helper()
	n := 0
	for _, state := range []string{workdir.Succeed, workdir.Failed, workdir.Pending} {
		for _, id := range h.taskDirs("local_test", state) {
			task, err := record.ReadTask(h.workdir().Task("local_test", state, "", id))
			if err != nil {
				t.Fatal(err)
			}
			if task.Round == 0 {
				n += len(task.Objects)
			}
		}
	}
	return n
}
