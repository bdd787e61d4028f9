package dashboard

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/workdir"
)

// TestDashboardIncrementalJob: the job API reads the master's counters
// file and shows an incremental job's round fields.
func TestDashboardIncrementalJob(t *testing.T) {
	dir := workdir.Dir(t.TempDir())
	doc := tracker.CountersDoc{Version: tracker.CountersVersion, Incremental: true, IntervalSeconds: 3600, BytesPerSecond: 50,
		Tally: tracker.Tally{Succeed: 2, Dispatched: 1, Objects: 30, Bytes: 3000}}
	doc.Finished.Copied, doc.Finished.Verified, doc.Finished.CopiedBytes = 20, 20, 2000
	data, _ := json.Marshal(doc)
	if err := workdir.WriteFile(filepath.Join(dir.Job("inc"), workdir.CountersFile), data); err != nil {
		t.Fatal(err)
	}
	ended := time.UnixMilli(1_900_000_000_000)
	if err := workdir.SaveCheckpoint(dir.Checkpoint("inc"), &plan.Checkpoint{Job: "inc", Round: 3, Done: true, Finished: ended.UnixMilli()}); err != nil {
		t.Fatal(err)
	}
	h, _, _ := newTest(t, dir, "")
	w := do(h, "GET", "/api/jobs/inc", nil)
	for _, want := range []string{`"incremental":true`, `"round":3`, `"roundEnded":"`, `"nextRound":"`, `"state":"Running"`, `"scanFinished":false`} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("no %s in %s", want, w.Body.String())
		}
	}
	v := decode[JobView](t, w)
	if !v.NextRound.Equal(ended.Add(time.Hour)) || v.Bytes.Done != 2000 || v.Throughput != 50 || v.ETASeconds != 20 {
		t.Fatalf("job %+v", v)
	}
}
