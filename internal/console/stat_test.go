package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

func statOutput(t *testing.T, sys string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := Execute(append([]string{"console", "stat", "--sys", sys}, args...), &stdout, &stderr); code != 0 {
		t.Fatalf("stat exit %d: %s", code, stderr.String())
	}
	return stdout.String()
}

func TestStat(t *testing.T) {
	work := t.TempDir()
	sys := filepath.Join(work, "sys.properties")
	if err := os.WriteFile(sys, []byte("workingDir="+work+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := statOutput(t, sys); strings.TrimSpace(out) != "no jobs is running or finished." {
		t.Fatalf("stat without jobs: %q", out)
	}

	dir := workdir.Dir(work)
	if err := workdir.SaveCheckpoint(dir.Checkpoint("local_test"), &plan.Checkpoint{Job: "local_test", Done: true}); err != nil {
		t.Fatal(err)
	}
	task := plan.Task{ID: "AB12_1", Job: "local_test", Objects: []transfer.Object{{Key: "a", Size: 3}, {Key: "b", Size: 4}}, Bytes: 7}
	w, err := record.Create(dir.Task("local_test", workdir.Failed, "", task.ID), task)
	if err != nil {
		t.Fatal(err)
	}
	_ = w.Add(transfer.Result{Object: task.Objects[0], Code: transfer.Succeed, Size: 3})
	_ = w.Add(transfer.Result{Object: task.Objects[1], Code: transfer.SourceNotFound, Detail: "gone"})
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}

	out := statOutput(t, sys)
	for _, line := range []string{"JobName:local_test", "JobState:Failed", "Failed Task Count:1", "Is Scan Finished:true",
		"Objects:2/2 Failed:1", "FailedTask:AB12_1 causes in " + filepath.Join(dir.Task("local_test", workdir.Failed, "", "AB12_1"), "audit.log")} {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("stat output lacks %q:\n%s", line, out)
		}
	}
	var jobs []tracker.JobStatus
	if err := json.Unmarshal([]byte(statOutput(t, sys, "--json", "local_test")), &jobs); err != nil || len(jobs) != 1 || jobs[0].State != tracker.Failed {
		t.Fatalf("stat --json: %+v (%v)", jobs, err)
	}
}

// statHome is a working directory with a sys.properties naming it.
func statHome(t *testing.T) (workdir.Dir, string) {
	t.Helper()
	work := t.TempDir()
	sys := filepath.Join(work, "sys.properties")
	if err := os.WriteFile(sys, []byte("workingDir="+work+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return workdir.Dir(work), sys
}

// fileTask records a finished task of job in state (workdir.Succeed or
// workdir.Failed) with one result per attempt and object, in order.
func fileTask(t *testing.T, dir workdir.Dir, job, state, id string, attempts ...[]transfer.Result) {
	t.Helper()
	if err := workdir.SaveCheckpoint(dir.Checkpoint(job), &plan.Checkpoint{Job: job, Done: true}); err != nil {
		t.Fatal(err)
	}
	task := plan.Task{ID: id, Job: job}
	for _, r := range attempts[0] {
		task.Objects = append(task.Objects, r.Object)
		task.Bytes += r.Object.Size
	}
	for _, results := range attempts {
		w, err := record.Create(dir.Task(job, state, "", id), task)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range results {
			if err := w.Add(r); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestStatShowsFailedCauses(t *testing.T) {
	obj := func(k string) transfer.Object { return transfer.Object{Key: k, Size: 1} }
	fail := func(k string, code transfer.Code, detail string) transfer.Result {
		return transfer.Result{Object: obj(k), Code: code, Detail: detail}
	}
	ok := func(k string) transfer.Result {
		return transfer.Result{Object: obj(k), Code: transfer.Succeed, Size: 1}
	}
	for _, c := range []struct {
		name     string
		attempts [][]transfer.Result
		want     []string
	}{
		{"one cause", [][]transfer.Result{{ok("a"), fail("b", transfer.SourceNotFound, "gone")}},
			[]string{"    SourceNotFound b Detail:gone"}},
		{"first three of five, and how many more", [][]transfer.Result{{
			fail("k1", transfer.UploadFailed, "503 slow down"), ok("k2"), fail("k3", transfer.CheckFailed, "crc64 differs"),
			fail("k 4", transfer.DownloadFailed, "reset"), fail("k5", transfer.UploadFailed, "x"), fail("k6", transfer.UploadFailed, "y"),
		}}, []string{"    UploadFailed k1 Detail:503 slow down", "    CheckFailed k3 Detail:crc64 differs", "    DownloadFailed k 4 Detail:reset",
			"    ... 2 more failed objects in "}},
		{"the latest attempt's cause", [][]transfer.Result{
			{fail("a", transfer.UploadFailed, "first try"), fail("b", transfer.UploadFailed, "first try")},
			{ok("a"), fail("b", transfer.SizeNotMatch, "source changed")},
		}, []string{"    SIZE_NOT_MATCH b Detail:source changed"}},
		{"secrets masked", [][]transfer.Result{{fail("s", transfer.DownloadFailed, "GET https://h/s?Signature=abc&x=1: 403")}},
			[]string{"    DownloadFailed s Detail:GET https://h/s?Signature=***&x=1: 403"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir, sys := statHome(t)
			fileTask(t, dir, "cause_job", workdir.Failed, "T1", c.attempts...)
			out := statOutput(t, sys)
			head := "FailedTask:T1 causes in " + filepath.Join(dir.Task("cause_job", workdir.Failed, "", "T1"), "audit.log") + "\n"
			i := strings.Index(out, head)
			if i < 0 {
				t.Fatalf("no %q in\n%s", head, out)
			}
			block := out[i+len(head) : strings.Index(out, "----------------job stat end")]
			lines := strings.Split(strings.TrimSuffix(block, "\n"), "\n")
			if len(lines) != len(c.want) {
				t.Fatalf("cause lines %q, want %q", lines, c.want)
			}
			for j, w := range c.want {
				if !strings.HasPrefix(lines[j], w) {
					t.Errorf("cause line %d: %q, want %q", j, lines[j], w)
				}
			}
			if strings.Contains(out, "Signature=abc") {
				t.Errorf("stat shows a signature:\n%s", out)
			}
		})
	}
}

func TestStatShowsWorkers(t *testing.T) {
	dir, sys := statHome(t)
	fileTask(t, dir, "work_job", workdir.Succeed, "T1", []transfer.Result{{Object: transfer.Object{Key: "a", Size: 2}, Code: transfer.Succeed, Size: 2}})
	beat := time.Now().Add(-3 * time.Second).Truncate(time.Second)
	if err := tracker.WriteWorkers(dir, []tracker.WorkerStatus{
		{Name: "10.0.0.2", Alive: false, LastHeartbeat: beat.Add(-time.Hour)},
		{Name: "10.0.0.3", Alive: true, LastHeartbeat: beat.Add(-time.Hour), Running: 4}, // its master was killed
		{Name: "10.0.0.4", Alive: false, Stopped: true, LastHeartbeat: beat.Add(-time.Hour)},
		{Name: "localhost", Alive: true, LastHeartbeat: beat, Running: 2, BytesPerSecond: 3 << 20},
	}); err != nil {
		t.Fatal(err)
	}
	out := statOutput(t, sys)
	end := strings.Index(out, "--------------job stats end---------------\n")
	if end < 0 || !strings.Contains(out, "JobState:Succeed\n") {
		t.Fatalf("stat:\n%s", out)
	}
	workers := strings.Split(strings.TrimSuffix(out[end+len("--------------job stats end---------------\n"):], "\n"), "\n")
	want := []string{
		"Worker:10.0.0.2 State:lost LastHeartbeat:" + beat.Add(-time.Hour).Local().Format(time.DateTime) + " (1h0m",
		"Worker:10.0.0.3 State:lost LastHeartbeat:" + beat.Add(-time.Hour).Local().Format(time.DateTime) + " (1h0m",
		"Worker:10.0.0.4 State:stopped LastHeartbeat:" + beat.Add(-time.Hour).Local().Format(time.DateTime) + " (1h0m",
		"Worker:localhost State:alive LastHeartbeat:" + beat.Local().Format(time.DateTime) + " (",
	}
	if len(workers) != len(want) {
		t.Fatalf("worker lines %q", workers)
	}
	for i, w := range want {
		if !strings.HasPrefix(workers[i], w) {
			t.Errorf("worker line %q, want prefix %q", workers[i], w)
		}
	}
	if !strings.HasSuffix(workers[0], " ago) RunningTasks:0 Throughput:0 B/s") || !strings.HasSuffix(workers[1], " ago) RunningTasks:0 Throughput:0 B/s") ||
		!strings.HasSuffix(workers[3], " ago) RunningTasks:2 Throughput:3.0 MiB/s") {
		t.Errorf("worker lines %q", workers)
	}

	// --json keeps the job array; --with-workers adds the workers.
	var jobs []tracker.JobStatus
	if err := json.Unmarshal([]byte(statOutput(t, sys, "--json")), &jobs); err != nil || len(jobs) != 1 {
		t.Fatalf("stat --json: %+v (%v)", jobs, err)
	}
	var doc struct {
		Jobs    []tracker.JobStatus    `json:"jobs"`
		Workers []tracker.WorkerStatus `json:"workers"`
	}
	if err := json.Unmarshal([]byte(statOutput(t, sys, "--json", "--with-workers")), &doc); err != nil ||
		len(doc.Jobs) != 1 || doc.Jobs[0].State != tracker.Succeed || len(doc.Workers) != 4 || doc.Workers[3].Running != 2 || doc.Workers[1].Alive {
		t.Fatalf("stat --json --with-workers: %+v (%v)", doc, err)
	}
}

func TestStatUntilDone(t *testing.T) {
	for _, c := range []struct {
		name     string
		results  map[string]transfer.Code // job -> the code of its one object
		args     []string
		wantCode int
		blocks   int
	}{
		{"succeeded", map[string]transfer.Code{"good_job": transfer.Succeed}, nil, 0, 1},
		{"failed", map[string]transfer.Code{"bad_job": transfer.UploadFailed}, nil, 1, 1},
		{"one failed of two", map[string]transfer.Code{"good_job": transfer.Succeed, "bad_job": transfer.UploadFailed}, nil, 1, 1},
		{"only the job named", map[string]transfer.Code{"good_job": transfer.Succeed, "bad_job": transfer.UploadFailed}, []string{"good_job"}, 0, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir, sys := statHome(t)
			for job, code := range c.results {
				state := workdir.Succeed
				if !code.OK() {
					state = workdir.Failed
				}
				fileTask(t, dir, job, state, "T1", []transfer.Result{{Object: transfer.Object{Key: "a", Size: 1}, Code: code, Size: 1}})
			}
			var stdout, stderr bytes.Buffer
			args := append([]string{"console", "stat", "--sys", sys, "--until-done", "--interval", "10ms"}, c.args...)
			code := Execute(args, &stdout, &stderr)
			if code != c.wantCode {
				t.Fatalf("exit %d, want %d; stderr %q", code, c.wantCode, stderr.String())
			}
			if n := strings.Count(stdout.String(), "--------------job stats begin"); n != c.blocks {
				t.Errorf("%d stat blocks, want %d:\n%s", n, c.blocks, stdout.String())
			}
			if c.wantCode != 0 && !strings.Contains(stderr.String(), "bad_job Failed") {
				t.Errorf("stderr %q does not name the failed job", stderr.String())
			}
		})
	}
}

// cancelAfter cancels a context at its n-th write.
type cancelAfter struct {
	bytes.Buffer
	n      int
	cancel context.CancelFunc
}

func (w *cancelAfter) Write(p []byte) (int, error) {
	if w.n--; w.n == 0 {
		w.cancel()
	}
	return w.Buffer.Write(p)
}

func TestStatWatchRepeatsUntilInterrupted(t *testing.T) {
	dir, _ := statHome(t)
	fileTask(t, dir, "watch_job", workdir.Succeed, "T1", []transfer.Result{{Object: transfer.Object{Key: "a", Size: 1}, Code: transfer.Succeed, Size: 1}})
	ctx, cancel := context.WithCancel(t.Context())
	out := &cancelAfter{n: 3, cancel: cancel}
	if err := watchStat(ctx, out, statView{dir: dir}, time.Millisecond, false); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "JobState:Succeed\n"); n != 3 {
		t.Fatalf("%d blocks, want 3:\n%s", n, out.String())
	}
	// Interrupted before the jobs ended, --until-done is no success.
	ctx, cancel = context.WithCancel(t.Context())
	cancel()
	if err := os.RemoveAll(dir.Task("watch_job", workdir.Succeed, "", "T1")); err != nil {
		t.Fatal(err)
	}
	fileTask(t, dir, "watch_job", workdir.Pending, "T2", []transfer.Result{{Object: transfer.Object{Key: "b", Size: 1}, Code: transfer.Succeed}})
	var exit *ExitError
	if err := watchStat(ctx, &bytes.Buffer{}, statView{dir: dir}, time.Millisecond, true); !errors.As(err, &exit) || exit.Code != 130 {
		t.Fatalf("interrupted --until-done: %v", err)
	}
}

func TestRunWithoutJobFileSaysWhatToDo(t *testing.T) {
	t.Setenv("OSS_IMPORT_HOME", t.TempDir())
	var stdout, stderr bytes.Buffer
	if code := Execute([]string{"run"}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "give the job file as an argument") {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
}
