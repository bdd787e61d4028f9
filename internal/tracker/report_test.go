package tracker_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ossimport/ossimport/internal/metrics"
	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/report"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

func TestApplyFeedsReportsOnce(t *testing.T) {
	dir := workdir.Dir(t.TempDir())
	objs := []transfer.Object{{Key: "a", Size: 1}, {Key: "b", Size: 2}, {Key: "c", Size: 3}}
	if err := record.WriteTask(dir.Task("j", workdir.Pending, "", "T1"), plan.Task{ID: "T1", Job: "j", Objects: objs}); err != nil {
		t.Fatal(err)
	}
	mx := metrics.New()
	m := tracker.NewFiling(dir, mx)
	now := time.Now()
	res := protocol.TaskResult{Job: "j", TaskID: "T1", Worker: "w", Finished: now, Objects: []protocol.ObjectResult{
		{Object: objs[0], Code: transfer.Succeed, Size: 1, At: now},
		{Object: objs[1], Code: transfer.Skipped, Size: 2, At: now},
		{Object: objs[2], Code: transfer.UploadFailed, Detail: "boom", At: now},
	}}
	check := func(copied, skipped, failed int64) {
		t.Helper()
		got, err := report.Summary(dir.Reports("j"))
		if err != nil {
			t.Fatal(err)
		}
		if got[report.Copied] != copied || got[report.Skipped] != skipped || got[report.Failed] != failed {
			t.Fatalf("reports %v, want copied %d skipped %d failed %d", got, copied, skipped, failed)
		}
	}
	if _, err := m.ApplyResult(res); err != nil {
		t.Fatal(err)
	}
	check(1, 1, 1)
	// The same result again (redelivered): only the failure is recorded again.
	if _, err := m.ApplyResult(res); err != nil {
		t.Fatal(err)
	}
	check(1, 1, 2)
	// The retry succeeds; the task is filed as succeeded.
	res.Objects = []protocol.ObjectResult{{Object: objs[2], Code: transfer.Succeed, Size: 3, At: now}}
	if _, err := m.ApplyResult(res); err != nil {
		t.Fatal(err)
	}
	check(2, 1, 2)
	// A late result for the succeeded task changes nothing.
	if _, err := m.ApplyResult(res); err != nil {
		t.Fatal(err)
	}
	check(2, 1, 2)
	want := `# HELP ossimport_objects_total Objects finished, by job and result code.
# TYPE ossimport_objects_total counter
ossimport_objects_total{job="j",result="Skipped"} 1
ossimport_objects_total{job="j",result="Succeed"} 2
ossimport_objects_total{job="j",result="UploadFailed"} 2
`
	if err := testutil.GatherAndCompare(mx.Registry(), strings.NewReader(want), "ossimport_objects_total"); err != nil {
		t.Error(err)
	}
}
