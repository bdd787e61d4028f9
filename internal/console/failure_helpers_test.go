package console

// Helpers of the process-level failure tests (failure_test.go): a
// versitygw destination, extra `ossimport worker` processes, and checks
// of the bucket and of the working-directory view.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/testenv"
	"github.com/ossimport/ossimport/internal/workdir"
)

// failJob is the job name of the failure tests.
const failJob = "s3_test"

// s3Dest is the versitygw destination of a test home.
type s3Dest struct {
	srv    *testenv.S3Server
	bucket string
}

// newS3Home is a test home whose job (conf/s3_job.cfg, named s3_test)
// copies h.src into a fresh versitygw bucket. The server's secret key is
// random so that a leak of it cannot be a coincidence.
func newS3Home(t *testing.T, sysExtra, jobExtra string) (*testHome, *s3Dest) {
	t.Helper()
	h := newTestHome(t, sysExtra, "")
	secret := fmt.Sprintf("fail-secret-%d-%d", time.Now().UnixNano(), os.Getpid())
	srv := testenv.VersityGW(t, testenv.WithCredentials("ossimport-fail-ak", secret))
	d := &s3Dest{srv: srv, bucket: srv.CreateBucket(t, "")}
	h.job = filepath.Join(h.dir, "conf", "s3_job.cfg")
	h.write(h.job, fmt.Sprintf("jobName=%s\njobType=import\nsrcType=local\nsrcPrefix=%s/\n"+
		"destType=s3\ndestDomain=%s\ndestBucket=%s\ndestAccessKey=%s\ndestSecretKey=%s\n"+
		"taskObjectCountLimit=50\nmultipartUploadThreshold=2m\nmultipartUploadPartSize=1m\n%s",
		failJob, h.src, srv.Endpoint, d.bucket, srv.AccessKey, srv.SecretKey, jobExtra))
	return h, d
}

// addBig adds a file of n pseudo-random bytes to the source.
func (h *testHome) addBig(files map[string][]byte, rel string, n int, seed byte) {
	h.t.Helper()
	data := make([]byte, n)
	x := uint32(seed) + 1
	for i := range data {
		x = x*1664525 + 1013904223
		data[i] = byte(x >> 24)
	}
	files[rel] = data
	h.write(filepath.Join(h.src, rel), string(data))
}

// verify checks that the bucket holds exactly the files, byte for byte.
func (d *s3Dest) verify(t *testing.T, files map[string][]byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testenv.Scale(60*time.Second))
	defer cancel()
	c := d.srv.Client(t)
	keys := map[string]bool{}
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(d.bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("list %s: %v", d.bucket, err)
		}
		for _, o := range page.Contents {
			keys[aws.ToString(o.Key)] = true
		}
	}
	for k := range keys {
		if _, ok := files[k]; !ok {
			t.Errorf("unexpected object %q in the bucket", k)
		}
	}
	for rel, want := range files {
		if !keys[rel] {
			t.Errorf("object %q missing from the bucket", rel)
			continue
		}
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(d.bucket), Key: aws.String(rel)})
		if err != nil {
			t.Errorf("get %s: %v", rel, err)
			continue
		}
		got, err := io.ReadAll(out.Body)
		out.Body.Close()
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("object %s differs from its source (%v, %d bytes, want %d)", rel, err, len(got), len(want))
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

// syncBuffer is a bytes.Buffer safe for a process's writes and the
// test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// extWorker is an `ossimport worker` process.
type extWorker struct {
	name           string
	cmd            *exec.Cmd
	stdout, stderr *syncBuffer
	exited         chan struct{}
}

// startWorker starts `ossimport worker` against the service's NATS with
// the token file of the working directory, reading sys (h.sys when "").
// It waits until the worker says it is connected.
func (h *testHome) startWorker(name, sys string) *extWorker {
	h.t.Helper()
	if sys == "" {
		sys = h.sys
	}
	w := &extWorker{name: name, stdout: &syncBuffer{}, stderr: &syncBuffer{}, exited: make(chan struct{})}
	w.cmd = exec.Command(ossimportBin, "worker", "--nats", "nats://127.0.0.1:"+strconv.Itoa(h.port),
		"--token-file", h.workdir().Token(), "--name", name, "--sys", sys)
	w.cmd.Dir, w.cmd.Env = h.dir, childEnv()
	w.cmd.Stdout, w.cmd.Stderr = w.stdout, w.stderr
	if err := w.cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	go func() { _ = w.cmd.Wait(); close(w.exited) }()
	h.t.Cleanup(func() {
		select {
		case <-w.exited:
		default:
			_ = w.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-w.exited:
			case <-time.After(testenv.Scale(10 * time.Second)):
				_ = w.cmd.Process.Kill()
				<-w.exited
			}
		}
		if strings.Contains(w.stderr.String(), "DATA RACE") {
			h.t.Errorf("worker %s reported a data race:\n%s", name, w.stderr.String())
		}
	})
	h.waitFor(20*time.Second, "worker "+name+" connected", func() bool {
		select {
		case <-w.exited:
			h.t.Fatalf("worker %s exited: %s\n%s", name, w.cmd.ProcessState, w.stderr.String())
		default:
		}
		return strings.Contains(w.stderr.String(), "connected to")
	})
	return w
}

// kill9 SIGKILLs the worker and waits for its end.
func (w *extWorker) kill9(t *testing.T) {
	t.Helper()
	if err := w.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatal(err)
	}
	select {
	case <-w.exited:
	case <-time.After(testenv.Scale(10 * time.Second)):
		t.Fatalf("worker %s still alive after SIGKILL", w.name)
	}
}

// stop ends the worker with SIGTERM.
func (w *extWorker) stop(t *testing.T) {
	t.Helper()
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.exited:
	case <-time.After(testenv.Scale(15 * time.Second)):
		t.Fatalf("worker %s did not stop on SIGTERM", w.name)
	}
}

// waitFor waits for cond (testenv.Wait), failing the test with the end
// of the service's logs after timeout.
func (h *testHome) waitFor(timeout time.Duration, what string, cond func() bool) {
	h.t.Helper()
	testenv.Wait(h.t, timeout, what, cond, h.logs)
}

// allTasks lists every task folder of the job, in every state, by id
// (a task found twice is reported by the second return).
func (h *testHome) allTasks(job string) (map[string]string, []string) {
	tasks := map[string]string{}
	var dups []string
	add := func(id, path string) {
		if _, ok := tasks[id]; ok {
			dups = append(dups, id)
		}
		tasks[id] = path
	}
	for _, state := range []string{workdir.Pending, workdir.Succeed, workdir.Failed} {
		for _, id := range h.taskDirs(job, state) {
			add(id, h.workdir().Task(job, state, "", id))
		}
	}
	for _, w := range h.taskDirs(job, workdir.Dispatched) {
		for _, id := range workdir.Subdirs(filepath.Join(h.workdir().Job(job), workdir.Dispatched, w)) {
			add(id, h.workdir().Task(job, workdir.Dispatched, w, id))
		}
	}
	return tasks, dups
}

// taskWorkers maps each succeeded task to the worker its WORKER file
// names.
func (h *testHome) taskWorkers(job string) map[string]string {
	h.t.Helper()
	out := map[string]string{}
	for _, id := range h.taskDirs(job, workdir.Succeed) {
		data, err := os.ReadFile(filepath.Join(h.workdir().Task(job, workdir.Succeed, "", id), workdir.WorkerFile))
		if err != nil {
			h.t.Fatalf("task %s: %v", id, err)
		}
		out[id] = strings.TrimSpace(string(data))
	}
	return out
}

// doneTimes is the DONE file mtime of every succeeded task.
func (h *testHome) doneTimes(job string) map[string]time.Time {
	h.t.Helper()
	out := map[string]time.Time{}
	for _, id := range h.taskDirs(job, workdir.Succeed) {
		fi, err := os.Stat(filepath.Join(h.workdir().Task(job, workdir.Succeed, "", id), workdir.DoneFile))
		if err != nil {
			h.t.Fatal(err)
		}
		out[id] = fi.ModTime()
	}
	return out
}

// checkKeysOnce checks that every file's key is in exactly one task of
// the job, and no task holds anything else.
func (h *testHome) checkKeysOnce(job string, files map[string][]byte) {
	h.t.Helper()
	tasks, dups := h.allTasks(job)
	if len(dups) > 0 {
		h.t.Fatalf("task folders in more than one state: %v", dups)
	}
	seen := map[string]string{}
	for id, path := range tasks {
		t, err := record.ReadTask(path)
		if err != nil {
			h.t.Fatal(err)
		}
		for _, o := range t.Objects {
			if other, ok := seen[o.Key]; ok {
				h.t.Fatalf("key %s is in tasks %s and %s", o.Key, other, id)
			}
			seen[o.Key] = id
			if _, ok := files[o.Key]; !ok {
				h.t.Fatalf("task %s holds unknown key %q", id, o.Key)
			}
		}
	}
	if len(seen) != len(files) {
		var missing []string
		for k := range files {
			if _, ok := seen[k]; !ok {
				missing = append(missing, k)
			}
		}
		sort.Strings(missing)
		h.t.Fatalf("%d keys in the tasks, want %d; missing %v", len(seen), len(files), missing)
	}
}

// statLine is the value of "<prefix>..." in a stat output, or "".
func statLine(out, prefix string) string {
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			return v
		}
	}
	return ""
}

func headBucket(bucket string) *s3.HeadBucketInput {
	return &s3.HeadBucketInput{Bucket: aws.String(bucket)}
}

// removeBucket deletes the bucket's folder under the server's root while
// objects are being written into it: the folder is moved away (atomic),
// and removed again should an upload in flight recreate it, until the
// server has reported the bucket missing several times in a row.
func (d *s3Dest) removeBucket(t *testing.T) {
	t.Helper()
	dir := filepath.Join(d.srv.Root, d.bucket)
	c := d.srv.Client(t)
	deadline := time.Now().Add(15 * time.Second)
	for gone := 0; gone < 5; {
		if time.Now().After(deadline) {
			t.Fatalf("the bucket %s keeps coming back", d.bucket)
		}
		if _, err := os.Stat(dir); err == nil {
			gone = 0
			trash := filepath.Join(t.TempDir(), "bucket")
			if err := os.Rename(dir, trash); err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := c.HeadBucket(ctx, headBucket(d.bucket))
		cancel()
		if err == nil {
			gone = 0
		} else {
			gone++
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// noUploadsLeft fails the test when the bucket lists an unfinished
// multipart upload (OSS and S3 bill their parts).
func (d *s3Dest) noUploadsLeft(t *testing.T) {
	t.Helper()
	out, err := d.srv.Client(t).ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: aws.String(d.bucket)})
	if err != nil {
		t.Fatalf("list multipart uploads of %s: %v", d.bucket, err)
	}
	for _, u := range out.Uploads {
		t.Errorf("unfinished multipart upload left at the destination: %s (%s)", aws.ToString(u.Key), aws.ToString(u.UploadId))
	}
}
