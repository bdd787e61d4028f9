package master

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/bus/bustest"
	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/testenv"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// TestRestoreSkipsATaskFiledMeanwhile: a restore lists a job's task
// folders, then the tracker files one of them into another state (the
// resubmitted job runs while it is restored). The restore queues the
// others and counts the moved one out; it does not give up on the job.
// A folder still there with its task file missing is damage: the
// restore says which file, and the job is tried again at the next start.
func TestRestoreSkipsATaskFiledMeanwhile(t *testing.T) {
	tests := []struct {
		name    string
		disturb func(t *testing.T, dir workdir.Dir, job string)
		queued  int
		err     string
	}{
		{"filed as succeeded", func(t *testing.T, dir workdir.Dir, job string) {
			to := dir.Task(job, workdir.Succeed, "", "T2")
			if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(dir.Task(job, workdir.Pending, "", "T2"), to); err != nil {
				t.Fatal(err)
			}
		}, 2, ""},
		{"task file lost", func(t *testing.T, dir workdir.Dir, job string) {
			if err := os.Remove(filepath.Join(dir.Task(job, workdir.Pending, "", "T2"), workdir.TaskFile)); err != nil {
				t.Fatal(err)
			}
		}, 1, filepath.Join("T2", workdir.TaskFile)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			work := t.TempDir()
			srv := bustest.Server(t, work)
			b := bustest.Connect(t, srv, "master", bus.SetupOptions{})
			dir := workdir.Dir(work)
			const job = "restored_job"
			for _, id := range []string{"T1", "T2", "T3"} {
				task := plan.Task{ID: id, Job: job, Objects: []transfer.Object{{Key: id + "/a", Size: 1}}}
				if _, _, err := tracker.FilePlanned(dir, task); err != nil {
					t.Fatal(err)
				}
			}
			m, err := New(Options{Dir: dir, Bus: b, Settings: SettingsFrom(config.DefaultSys())})
			if err != nil {
				t.Fatal(err)
			}
			var r RestoreReport
			refs := m.taskRefs(job, &r)
			if len(refs) != 3 {
				t.Fatalf("listed %v, want the 3 pending tasks", refs)
			}
			tc.disturb(t, dir, job)
			err = m.restoreListed(t.Context(), job, refs, false, &r)
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("restore: %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("restore returned %v, want an error naming %s", err, tc.err)
			}
			if r.Queued != tc.queued {
				t.Errorf("queued %d tasks, want %d", r.Queued, tc.queued)
			}
			var n uint64
			testenv.Wait(t, 10*time.Second, "the restored tasks queued", func() bool {
				n, err = b.Pending(t.Context(), job)
				return err == nil && n == uint64(tc.queued)
			}, func() string { return fmt.Sprintf("%d tasks queued (%v)", n, err) })
		})
	}
}
