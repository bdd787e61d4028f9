package console

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ossimport/ossimport/internal/master"
	"github.com/ossimport/ossimport/internal/report"
	"github.com/ossimport/ossimport/internal/testenv"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// chaosBig is the multipart object of the chaos test: listed last, so
// that the scan is over when it is copied.
const chaosBig = "zz/big.bin"

// TestChaosServiceKilledAtEveryStage: one job of 1500 small files and a
// multipart object into versitygw; the service is killed with SIGKILL
// mid-scan, right after results were filed, mid-copy of the multipart
// object (a part uploaded, the upload not completed) and after the job
// ended, each time started again. In the end every object is at the destination
// byte for byte, every key has exactly one audit line and one report row,
// the counters add up, and the destination lists no unfinished upload.
// The pace is the workers' bandwidth and request caps; every stage is
// reached by waiting on what the view or the destination shows.
func TestChaosServiceKilledAtEveryStage(t *testing.T) {
	h, d := newS3Home(t, "workerMaxRequestRate=200\nworkerMaxThroughput(KB/s)=1024\n", "taskObjectCountLimit=5\nscanThreadCount=1\nuploadThreadNumPerLargeFile=1\n")
	files := h.writeFiles(h.src, 1500, 8, 0)
	h.addBig(files, chaosBig, 12<<20+321, 7) // parts of 5 MiB (S3's least), 1 MiB/s
	dir := h.workdir()
	status := func() tracker.JobStatus {
		st, _ := tracker.ReadStatus(dir, failJob)
		return st
	}
	stat := func() string { return h.console("stat", failJob).stdout + h.logs() }
	start := func() int {
		h.mustConsole("Start import service completed.\n", "start")
		return h.servicePid()
	}
	h.mustConsole("", "submit", h.job)

	// 1. Mid-scan.
	pid := start()
	testenv.Wait(t, 30*time.Second, "some tasks planned while the scan runs", func() bool {
		tasks, _ := h.allTasks(failJob)
		return len(tasks) >= 10
	}, stat)
	kill(t, pid)
	if cp, err := workdir.LoadCheckpoint(dir.Checkpoint(failJob)); err != nil || cp != nil && cp.Done {
		t.Fatalf("the scan finished before the first kill (%v); make it longer", err)
	}
	planned, _ := h.allTasks(failJob)
	t.Logf("killed mid-scan: %d tasks planned", len(planned))

	// 2. Right after results: a task is filed as succeeded, the job runs.
	pid = start()
	before := len(h.taskDirs(failJob, workdir.Succeed))
	testenv.Wait(t, 2*time.Minute, "a task filed after the restart", func() bool {
		return len(h.taskDirs(failJob, workdir.Succeed)) > before
	}, stat)
	kill(t, pid)
	if st := status(); st.State != tracker.Running {
		t.Fatalf("the job is %s at the kill after results, want Running (the multipart object is copied last)", st.State)
	}
	t.Logf("killed right after results: %d tasks filed", len(h.taskDirs(failJob, workdir.Succeed)))

	// 3. Mid-copy of the multipart object: parts uploaded, not completed.
	pid = start()
	c := d.srv.Client(t)
	var uploadID string
	testenv.Wait(t, 2*time.Minute, "a part of the multipart object uploaded", func() bool {
		id, parts := uploadOf(t.Context(), c, d.bucket, chaosBig)
		uploadID = id
		return parts >= 1
	}, stat)
	kill(t, pid)
	if _, parts := uploadOf(t.Context(), c, d.bucket, chaosBig); parts >= 3 {
		t.Fatalf("every part of the multipart object was sent before the kill mid-copy; slow it down")
	}
	t.Logf("killed mid-copy of %s (upload %s)", chaosBig, uploadID)

	// 4. After the job ended.
	pid = start()
	testenv.Wait(t, 3*time.Minute, "the job to succeed", func() bool { return status().State == tracker.Succeed }, stat)
	kill(t, pid)
	restarted := time.Now()
	start()
	testenv.Wait(t, time.Minute, "the restarted service to lead", func() bool {
		v, err := master.ReadLeader(dir)
		return err == nil && v.Name != "" && v.Since.After(restarted)
	}, stat)
	if st := status(); st.State != tracker.Succeed {
		t.Fatalf("the ended job is %s after the last restart", st.State)
	}
	h.mustConsole("Stop import service completed.\n", "stop")

	d.verify(t, files)
	d.noUploadsLeft(t)
	h.checkKeysOnce(failJob, files)
	auditOnce(t, dir, files)
	reportedOnce(t, dir, files)
	st := status()
	n := int64(len(files))
	if st.Objects.Total != n || st.Objects.Done != n || st.FailedObjs != 0 || st.Counters.Copied+st.Counters.Skipped != n {
		t.Fatalf("counters %+v; want %d objects planned and done, each copied or skipped once", st, n)
	}
	t.Logf("4 kills; %d objects byte for byte, one audit line and one report row each, no upload left", n)
}

// uploadOf returns the unfinished multipart upload of key in bucket and
// how many parts it holds ("", 0 when there is none).
func uploadOf(ctx context.Context, c *s3.Client, bucket, key string) (string, int) {
	out, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket), Prefix: aws.String(key)})
	if err != nil {
		return "", 0
	}
	for _, u := range out.Uploads {
		parts, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(bucket), Key: u.Key, UploadId: u.UploadId})
		if err == nil && len(parts.Parts) > 0 {
			return aws.ToString(u.UploadId), len(parts.Parts)
		}
	}
	return "", 0
}

// auditOnce checks that each file has exactly one audit line in the
// finished tasks, with a successful code.
func auditOnce(t *testing.T, dir workdir.Dir, files map[string][]byte) {
	t.Helper()
	lines := map[string]int{}
	for _, state := range []string{workdir.Succeed, workdir.Failed} {
		for _, id := range workdir.Subdirs(filepath.Join(dir.Job(failJob), state)) {
			data := readFile(t, filepath.Join(dir.Task(failJob, state, "", id), workdir.AuditFile))
			for line := range strings.Lines(data) {
				f := strings.Fields(line)
				if len(f) < 4 || !transfer.Code(f[2]).OK() {
					t.Errorf("task %s: unexpected audit line %q", id, line)
					continue
				}
				lines[f[3]]++
			}
		}
	}
	bad := 0
	for rel := range files {
		if lines[rel] != 1 {
			if bad++; bad <= 10 {
				t.Errorf("%s has %d audit lines, want 1", rel, lines[rel])
			}
		}
	}
	if len(lines) != len(files) {
		t.Errorf("%d keys in the audit logs, want %d", len(lines), len(files))
	}
}

// reportedOnce checks that each file is in exactly one report row
// (copied, skipped or verified) and none failed.
func reportedOnce(t *testing.T, dir workdir.Dir, files map[string][]byte) {
	t.Helper()
	rows := map[string]int{}
	where := map[string][]string{} // key → the rows naming it, for a failure's message
	for _, name := range report.Names {
		f, err := os.Open(filepath.Join(dir.Reports(failJob), name+".csv"))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		all, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatalf("%s.csv: %v", name, err)
		}
		for _, row := range all[1:] {
			if name == report.Failed {
				t.Errorf("failed row %v", row)
			}
			rows[row[0]]++
			where[row[0]] = append(where[row[0]], name+": "+strings.Join(row, ","))
		}
	}
	bad := 0
	for rel := range files {
		if rows[rel] != 1 {
			if bad++; bad <= 10 {
				t.Errorf("%s is in %d report rows, want 1:\n%s", rel, rows[rel], strings.Join(where[rel], "\n"))
			}
		}
	}
	if len(rows) != len(files) {
		t.Errorf("%d keys in the reports, want %d", len(rows), len(files))
	}
}
