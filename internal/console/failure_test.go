package console

// Process-level failure tests of the cluster: real service and worker
// processes over the service's NATS JetStream, a real S3 server
// (versitygw) as the destination.

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/workdir"
)

// TestClusterSeveralWorkers: the standalone service and two extra worker
// processes share a job of a few hundred files and two multipart-sized
// ones; every object lands byte for byte and tasks ran on more than one
// worker. Then no file the service writes (logs/, master/), no output and
// no command line holds the destination secret or the NATS token.
func TestClusterSeveralWorkers(t *testing.T) {
	// The request rate paces each worker so that no single one drains the
	// queue before the others start pulling.
	h, d := newS3Home(t, "workerMaxRequestRate=60\n", "taskObjectCountLimit=20\n")
	files := h.writeFiles(h.src, 240, 64, 0)
	h.addBig(files, "big/a.bin", 3<<20+123, 1)
	h.addBig(files, "big/b.bin", 5<<20/2, 2)

	h.mustConsole("Start import service completed.\n", "start")
	w2 := h.startWorker("w2", "")
	w3 := h.startWorker("w3", "")
	submit := h.mustConsole("submit job:"+h.job+"\n", "submit", h.job)
	st := h.waitState(failJob, "Succeed", 25*time.Second)
	if want := "Objects:" + strconv.Itoa(len(files)) + "/" + strconv.Itoa(len(files)) + " Failed:0"; statLine(st, "Objects:") == "" || !strings.Contains(st, want+"\n") {
		t.Fatalf("stat of the finished job, want %q:\n%s", want, st)
	}
	d.verify(t, files)

	byWorker := map[string]int{}
	for _, w := range h.taskWorkers(failJob) {
		byWorker[w]++
	}
	if len(byWorker) < 2 {
		t.Fatalf("every task ran on one worker: %v", byWorker)
	}
	t.Logf("tasks by worker: %v", byWorker)

	// Secrets: the destination secret key and the NATS token.
	token, err := os.ReadFile(h.workdir().Token())
	if err != nil || len(bytes.TrimSpace(token)) < 16 {
		t.Fatalf("token file: %q %v", token, err)
	}
	secrets := map[string][]byte{"destination secret key": []byte(d.srv.SecretKey), "NATS token": bytes.TrimSpace(token)}
	leaks := func(where string, data []byte) {
		t.Helper()
		for what, s := range secrets {
			if bytes.Contains(data, s) {
				t.Errorf("%s holds the %s", where, what)
			}
		}
	}
	pids := map[string]int{"service": h.servicePid(), "worker w2": w2.cmd.Process.Pid, "worker w3": w3.cmd.Process.Pid}
	for who, pid := range pids {
		if pid == 0 {
			t.Fatalf("%s is not running", who)
		}
		cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if err != nil {
			t.Fatalf("%s cmdline: %v", who, err)
		}
		if !bytes.Contains(cmdline, []byte("ossimport")) {
			t.Fatalf("%s cmdline %q is not ossimport's", who, cmdline)
		}
		leaks(who+" command line", cmdline)
		environ, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
		if err == nil {
			leaks(who+" environment", environ)
		}
	}
	final := h.mustConsole("", "stat")
	leaks("stat output", []byte(final.stdout+final.stderr))
	leaks("submit output", []byte(submit.stdout+submit.stderr))
	h.mustConsole("Stop import service completed.\n", "stop")
	w2.stop(t)
	w3.stop(t)
	for _, w := range []*extWorker{w2, w3} {
		leaks("worker "+w.name+" output", []byte(w.stdout.String()+w.stderr.String()))
	}
	scanned := 0
	for _, top := range []string{"logs", "master"} {
		err := filepath.WalkDir(filepath.Join(h.dir, top), func(path string, e os.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			scanned++
			rel, _ := filepath.Rel(h.dir, path)
			leaks(rel, data)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if scanned < 10 {
		t.Fatalf("only %d files scanned under logs/ and master/", scanned)
	}
}

// TestClusterWorkerKilled: a throttled worker process is SIGKILLed while
// it holds a task; once its heartbeat has expired the active master hands
// the task to another worker at once (taskAckWait is 10 minutes here, so
// the queue alone would not redeliver it within the test's deadline), and
// the job finishes with every object as in the source.
func TestClusterWorkerKilled(t *testing.T) {
	h, d := newS3Home(t, "workerMaxRequestRate=40\ntaskAckWait=600\n", "taskObjectCountLimit=10\n")
	files := h.writeFiles(h.src, 100, 16<<10, 0)
	h.addBig(files, "big/a.bin", 3<<20, 3)
	h.addBig(files, "big/b.bin", 3<<20+77, 4)

	slowSys := filepath.Join(h.dir, "conf", "slow_sys.properties")
	base, err := os.ReadFile(h.sys)
	if err != nil {
		t.Fatal(err)
	}
	h.write(slowSys, string(base)+"workingDir="+h.dir+"\nworkerMaxThroughput(KB/s)=50\n")

	h.mustConsole("Start import service completed.\n", "start")
	slow := h.startWorker("slow", slowSys)
	h.mustConsole("", "submit", h.job)

	var held []string
	slowDir := filepath.Join(h.workdir().Job(failJob), workdir.Dispatched, "slow")
	h.waitFor(20*time.Second, "a task dispatched to the slow worker", func() bool {
		held = workdir.Subdirs(slowDir)
		return len(held) > 0
	})
	slow.kill9(t)
	t.Logf("killed the slow worker holding %v", held)

	st := h.waitState(failJob, "Succeed", 90*time.Second) // a deadline, not a pace: 1500 objects at 200 requests per second take 15 s on a quiet machine
	if want := "Objects:" + strconv.Itoa(len(files)) + "/" + strconv.Itoa(len(files)) + " Failed:0\n"; !strings.Contains(st, want) {
		t.Fatalf("stat of the finished job, want %q:\n%s", want, st)
	}
	d.verify(t, files)
	h.checkKeysOnce(failJob, files)
	workers := h.taskWorkers(failJob)
	for _, id := range held {
		if w := workers[id]; w == "" || w == "slow" {
			t.Fatalf("task %s held by the killed worker finished on %q", id, w)
		}
		if log := readLog(t, h, "master.log"); !strings.Contains(log, "task of a lost worker handed to another worker") || !strings.Contains(log, id) {
			t.Errorf("master.log does not say task %s of the lost worker was handed back:\n%s", id, log)
		}
	}
}

// TestClusterServiceKilledMidCopy: the service is SIGKILLed while tasks
// run; started again it finishes the job, tasks finished before the kill
// are not run again, and every object is in the bucket.
func TestClusterServiceKilledMidCopy(t *testing.T) {
	h, d := newS3Home(t, "workerMaxRequestRate=60\nworkerTaskThreadNum=2\n", "taskObjectCountLimit=10\n")
	files := h.writeFiles(h.src, 200, 256, 0) // 20 tasks
	h.mustConsole("", "submit", h.job)
	h.mustConsole("Start import service completed.\n", "start")
	pid := h.servicePid()

	h.waitFor(20*time.Second, "4 tasks done", func() bool { return len(h.taskDirs(failJob, workdir.Succeed)) >= 4 })
	kill(t, pid)
	done := h.doneTimes(failJob)
	if len(done) >= 20 {
		t.Fatal("the job finished before the service was killed; slow it down")
	}
	if out := h.mustConsole("", "stat", failJob).stdout; strings.Contains(out, "JobState:Succeed") {
		t.Fatalf("stat of the killed job:\n%s", out)
	}
	// Once the record of the master lease is stale, stat says that no
	// master runs the job.
	var out string
	h.waitFor(60*time.Second, "stat to say that no master runs", func() bool {
		out = h.mustConsole("", "stat", failJob).stdout
		return strings.Contains(out, "JobState:Running (no master since ")
	})
	if strings.Contains(out, "Master:") {
		t.Fatalf("stat names a master after the kill:\n%s", out)
	}

	h.mustConsole("Start import service completed.\n", "start")
	h.waitState(failJob, "Succeed", 28*time.Second)
	h.mustConsole("Stop import service completed.\n", "stop")

	d.verify(t, files)
	if n := len(h.taskDirs(failJob, workdir.Succeed)); n != 20 {
		t.Fatalf("%d succeeded task folders, want 20", n)
	}
	h.checkKeysOnce(failJob, files)
	for id, mtime := range done {
		fi, err := os.Stat(filepath.Join(h.workdir().Task(failJob, workdir.Succeed, "", id), "DONE"))
		if err != nil || !fi.ModTime().Equal(mtime) {
			t.Fatalf("task %s finished before the kill was run again (%v)", id, err)
		}
	}
}

// TestClusterServiceKilledMidScan: the service is SIGKILLed while it is
// still scanning a source of many small files; started again it resumes
// the scan and the job holds every object exactly once.
func TestClusterServiceKilledMidScan(t *testing.T) {
	h, d := newS3Home(t, "workerMaxRequestRate=200\n", "taskObjectCountLimit=5\nscanThreadCount=1\n")
	files := h.writeFiles(h.src, 1500, 8, 0)
	h.mustConsole("", "submit", h.job)
	h.mustConsole("Start import service completed.\n", "start")
	pid := h.servicePid()

	cp := h.workdir().Checkpoint(failJob)
	h.waitFor(20*time.Second, "some tasks planned while the scan runs", func() bool {
		tasks, _ := h.allTasks(failJob)
		return len(tasks) >= 10
	})
	kill(t, pid)
	c, err := workdir.LoadCheckpoint(cp)
	if err != nil {
		t.Fatal(err)
	}
	out := h.mustConsole("", "stat", failJob).stdout
	if c != nil && c.Done || !strings.Contains(out, "Is Scan Finished:false\n") {
		t.Fatalf("the scan finished before the service was killed; make it longer:\n%s", out)
	}
	before, _ := h.allTasks(failJob)
	t.Logf("killed the service mid-scan with %d tasks", len(before))

	h.mustConsole("Start import service completed.\n", "start")
	st := h.waitState(failJob, "Succeed", 90*time.Second) // a deadline, not a pace: 1500 objects at 200 requests per second take 15 s on a quiet machine
	h.mustConsole("Stop import service completed.\n", "stop")
	h.checkKeysOnce(failJob, files)
	if want := "Objects:" + strconv.Itoa(len(files)) + "/" + strconv.Itoa(len(files)) + " Failed:0\n"; !strings.Contains(st, want) {
		t.Fatalf("stat of the finished job, want %q:\n%s", want, st)
	}
	d.verify(t, files)
}

// TestClusterBucketDeleted: the destination bucket disappears in the
// middle of the job; the job cannot proceed and aborts with a reason
// naming the bucket.
func TestClusterBucketDeleted(t *testing.T) {
	h, d := newS3Home(t, "workerMaxRequestRate=40\nworkerTaskThreadNum=2\n", "taskObjectCountLimit=10\n")
	h.writeFiles(h.src, 200, 64, 0)
	h.mustConsole("", "submit", h.job)
	h.mustConsole("Start import service completed.\n", "start")
	h.waitFor(20*time.Second, "a task done", func() bool { return len(h.taskDirs(failJob, workdir.Succeed)) >= 1 })
	d.removeBucket(t)
	st := h.waitState(failJob, "Abort", 28*time.Second)
	reason := statLine(st, "Reason:")
	if reason == "" || !strings.Contains(strings.ToLower(reason), "bucket") {
		t.Fatalf("abort reason %q does not name the bucket:\n%s", reason, st)
	}
	if strings.Contains(st, d.srv.SecretKey) {
		t.Fatalf("stat shows the secret key:\n%s", st)
	}
}
