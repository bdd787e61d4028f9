package master

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// failTask files a failed task whose objects end with the given codes.
func failTask(t *testing.T, dir workdir.Dir, job, id string, codes ...transfer.Code) {
	t.Helper()
	var objs []transfer.Object
	for i := range codes {
		objs = append(objs, transfer.Object{Key: id + "/" + string(rune('a'+i)), Size: 1})
	}
	w, err := record.Create(dir.Task(job, workdir.Failed, "", id), plan.Task{ID: id, Job: job, Objects: objs})
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range codes {
		if err := w.Add(transfer.Result{Object: objs[i], Code: c, Size: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestRetryJobsLeavesNameOnlyTasks: retry requeues the failed tasks a
// retry can help and not those failed only by names that can never be
// copied; the reply keeps ossimport's strings and says what to rename.
func TestRetryJobsLeavesNameOnlyTasks(t *testing.T) {
	tests := []struct {
		name      string
		tasks     map[string][]transfer.Code
		requeued  []string
		first     string
		permanent int
	}{
		{"nothing failed", nil, nil, "None failed tasks for job:job_a.", 0},
		{"a fixable failure", map[string][]transfer.Code{"T1": {transfer.Succeed, transfer.UploadFailed}}, []string{"T1"}, "Retry has been submitted.", 0},
		{"names only", map[string][]transfer.Code{"T1": {transfer.InvalidName, transfer.Succeed}}, nil, "No failed task can be retried for job:job_a.", 1},
		{"mixed tasks", map[string][]transfer.Code{
			"T1": {transfer.InvalidName},
			"T2": {transfer.InvalidName, transfer.SourceNotFound},
			"T3": {transfer.CheckFailed},
		}, []string{"T2", "T3"}, "Retry has been submitted.", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := workdir.Dir(t.TempDir())
			if err := os.MkdirAll(dir.Job("job_a"), 0o755); err != nil {
				t.Fatal(err)
			}
			for id, codes := range tc.tasks {
				failTask(t, dir, "job_a", id, codes...)
			}
			if err := tracker.SetState(dir, "job_a", tracker.Abort, "test"); err != nil {
				t.Fatal(err)
			}
			var got []string
			r, err := retryJobs(t.Context(), dir, "job_a", func(_ context.Context, job, id string) error {
				got = append(got, id)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(got)
			lines := strings.Split(r.Message, "\n")
			if !slices.Equal(got, tc.requeued) || lines[0] != tc.first || r.Count != len(tc.requeued) || r.Permanent != tc.permanent {
				t.Fatalf("requeued %q, reply %+v; want %q, %q, %d permanent", got, r, tc.requeued, tc.first, tc.permanent)
			}
			if tc.permanent > 0 && !strings.Contains(r.Message, "Rename them at the source") {
				t.Errorf("the reply does not say to rename: %q", r.Message)
			}
			_, err = os.Stat(filepath.Join(dir.Job("job_a"), workdir.StateFile))
			if cleared := os.IsNotExist(err); cleared != (len(tc.requeued) > 0) {
				t.Errorf("STATE cleared %v, want only when tasks were requeued", cleared)
			}
		})
	}
}
