package console

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/testenv"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/workdir"
)

// TestServiceRestoresALostNATSStore: the service is stopped part-way
// through a job into versitygw and its NATS store (workdir/nats) is
// deleted; started again, it says what it restores, resubmits the job
// from the file it was submitted from (the working directory keeps the
// job file with its secret masked), and the job ends Succeed with every
// object once; `retry` and `clean` know the job again.
func TestServiceRestoresALostNATSStore(t *testing.T) {
	h, d := newS3Home(t, "workerMaxRequestRate=50\n", "taskObjectCountLimit=10\n")
	files := h.writeFiles(h.src, 400, 16, 0)
	dir := h.workdir()
	h.mustConsole("Start import service completed.\n", "start")
	h.mustConsole("", "submit", h.job)
	testenv.Wait(t, time.Minute, "a few tasks done", func() bool {
		return len(h.taskDirs(failJob, workdir.Succeed)) >= 3
	}, h.logs)
	h.mustConsole("Stop import service completed.\n", "stop")
	st, _ := tracker.ReadStatus(dir, failJob)
	if st.State == tracker.Succeed {
		t.Fatal("the job ended before the stop; slow it down")
	}
	if kept := readFile(t, dir.JobFile(failJob)); strings.Contains(kept, d.srv.SecretKey) {
		t.Fatal("the working directory keeps the secret key")
	}
	if err := os.RemoveAll(dir.NATS()); err != nil {
		t.Fatal(err)
	}

	h.mustConsole("Start import service completed.\n", "start")
	testenv.Wait(t, 2*time.Minute, "the job to succeed after the restore", func() bool {
		st, _ := tracker.ReadStatus(dir, failJob)
		return st.State == tracker.Succeed
	}, func() string { return h.console("stat", failJob).stdout + h.logs() })
	log := readFile(t, filepath.Join(h.dir, "logs", "master.log"))
	for _, want := range []string{"the NATS store was lost", "job restored from the working directory after the NATS store was lost"} {
		if !strings.Contains(log, want) {
			t.Errorf("master.log does not say %q", want)
		}
	}
	if strings.Contains(log, d.srv.SecretKey) {
		t.Error("master.log holds the secret key")
	}
	h.mustConsole("None failed tasks for job:"+failJob+".\n", "retry", failJob)
	h.mustConsole("Stop import service completed.\n", "stop")
	d.verify(t, files)
	d.noUploadsLeft(t)
	h.checkKeysOnce(failJob, files)
	reportedOnce(t, dir, files)
	st, _ = tracker.ReadStatus(dir, failJob)
	if n := int64(len(files)); st.Objects.Done != n || st.Counters.Copied+st.Counters.Skipped != n || st.FailedObjs != 0 {
		t.Fatalf("status %+v; want %d objects each finished once", st, n)
	}
}
