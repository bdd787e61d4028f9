package console

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/testenv"
	"github.com/ossimport/ossimport/internal/tracker"
)

// TestRunKilledThenRunAgain: `ossimport run` killed with SIGKILL in the
// middle of a job, large files included, is run again: it hands the
// killed run's tasks out at once (not after taskAckWait), finishes with
// exit status 0, and the bucket holds every object byte for byte with no
// unfinished multipart upload.
func TestRunKilledThenRunAgain(t *testing.T) {
	h, d := newS3Home(t, "taskAckWait=300\nworkerMaxThroughput(KB/s)=2048\n", "taskObjectCountLimit=4\n")
	files := h.writeFiles(h.src, 24, 64<<10, 6<<20)
	cmd, _ := h.startRun()
	done := func() int64 {
		st, _ := tracker.ReadStatus(h.workdir(), failJob)
		return st.Objects.Done
	}
	testenv.Wait(t, 2*time.Minute, "the run to finish a few objects", func() bool { return done() >= 4 }, h.logs)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if n := done(); n >= int64(len(files)) {
		t.Fatalf("the run finished all %d objects before it was killed; slow it down", n)
	}

	// taskAckWait is 300 s: the tasks the killed run held must not wait
	// for it, so the run gets a deadline well below it.
	started := time.Now()
	r := h.run("", nil, ossimportBin, "run", h.job, "--sys", h.sys, "--progress", "0")
	if r.code != 0 {
		t.Fatalf("run after the kill: %s\n%s", r, h.logs())
	}
	if took := time.Since(started); took > 150*time.Second {
		t.Errorf("the second run took %s: the killed run's tasks waited for their ack deadline", took)
	}
	if !strings.Contains(r.stdout, "tasks: 7 succeeded, 0 failed, 0 not finished") {
		t.Errorf("summary after the kill:\n%s", r.stdout)
	}
	d.verify(t, files)
	d.noUploadsLeft(t)
	master := readLog(t, h, "master.log")
	if !strings.Contains(master, "was killed; its running tasks are handed out again") {
		t.Errorf("master.log does not say the killed run's tasks were handed out again")
	}
}

// readLog returns a log of the home's logs/ folder.
func readLog(t *testing.T, h *testHome, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(h.dir, "logs", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
