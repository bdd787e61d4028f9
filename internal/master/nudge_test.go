package master_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/master"
	"github.com/ossimport/ossimport/internal/testenv"
	"github.com/ossimport/ossimport/internal/tracker"
)

// TestMasterWakesOnSubmitsAndResults: with a poll of an hour, a job
// submitted after the master started is planned (the jobs bucket's
// changes wake it) and its end is logged in the job log (a filed result
// wakes it), both long before the next poll.
func TestMasterWakesOnSubmitsAndResults(t *testing.T) {
	c := newCluster(t)
	files := c.writeFiles(12)
	var jobs lockedBuffer
	c.startMaster(func(o *master.Options) {
		o.Poll = time.Hour
		o.JobLogger = slog.New(slog.NewTextHandler(&jobs, nil))
	})
	c.startWorker("10.0.0.1")
	c.submit("nudged_job", "")
	c.waitState("nudged_job", tracker.Succeed)
	testenv.Wait(t, 30*time.Second, "the job's end in the job log", func() bool {
		return strings.Contains(jobs.String(), "job finished")
	}, jobs.String)
	c.checkCopied(files)
}
