package master_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/bus/bustest"
	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/master"
	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/testenv"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/workdir"
	"github.com/ossimport/ossimport/internal/worker"

	_ "github.com/ossimport/ossimport/internal/job" // registers the stores
)

// cluster is a master and workers in one process on an embedded NATS.
type cluster struct {
	t         *testing.T
	dir       workdir.Dir
	srv       *bus.Server
	sys       *config.Sys
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	src, dest string
	// logs holds the masters' and workers' logs, shown when the test
	// fails.
	logs lockedBuffer
}

// logger is a process's logger, writing to c.logs.
func (c *cluster) logger(name string) *slog.Logger {
	return slog.New(slog.NewTextHandler(&c.logs, &slog.HandlerOptions{Level: slog.LevelDebug})).With("process", name)
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	work := t.TempDir()
	srv := bustest.Server(t, work)
	sys := config.DefaultSys()
	sys.WorkingDir, sys.WorkerTaskThreadNum, sys.TaskAckWait, sys.TaskMaxDeliver = work, 4, 2*time.Second, 3
	sys.WorkerHeartbeatInterval = time.Second
	c := &cluster{t: t, dir: workdir.Dir(work), srv: srv, sys: sys, src: t.TempDir(), dest: t.TempDir()}
	c.ctx, c.cancel = context.WithCancel(t.Context())
	t.Cleanup(func() {
		c.cancel()
		c.wg.Wait()
		if t.Failed() {
			logs := c.logs.String()
			t.Logf("--- logs (last 16 KiB):\n%s", logs[max(0, len(logs)-16<<10):])
		}
	})
	return c
}

// connect opens a bus connection with the service's settings.
func (c *cluster) connect(name string) *bus.Bus {
	c.t.Helper()
	return bustest.Connect(c.t, c.srv, name, bus.SetupOptions{AckWait: c.sys.TaskAckWait, MaxDeliver: c.sys.TaskMaxDeliver,
		HeartbeatInterval: c.sys.WorkerHeartbeatInterval, RedeliveryPoll: 200 * time.Millisecond, LeaseTTL: 2 * time.Second, Update: name == "master"})
}

func (c *cluster) startMaster(edit ...func(*master.Options)) {
	opts := master.Options{Dir: c.dir, Bus: c.connect("master"), Settings: master.SettingsFrom(c.sys), Poll: 100 * time.Millisecond, Logger: c.logger("master")}
	for _, e := range edit {
		e(&opts)
	}
	m, err := master.New(opts)
	if err != nil {
		c.t.Fatal(err)
	}
	c.wg.Go(func() { _ = m.Run(c.ctx) })
}

// startWorker runs a worker until the returned function is called; edit,
// when set, changes its own copy of the sys settings.
func (c *cluster) startWorker(name string, edit ...func(*config.Sys)) (stop func()) {
	ctx, cancel := context.WithCancel(c.ctx)
	sys := *c.sys
	for _, e := range edit {
		e(&sys)
	}
	w, err := worker.New(worker.Options{Name: name, Bus: c.connect(name), Settings: worker.SettingsFrom(&sys), KeepAlive: 300 * time.Millisecond, Logger: c.logger(name)})
	if err != nil {
		c.t.Fatal(err)
	}
	done := make(chan struct{})
	c.wg.Go(func() { defer close(done); _ = w.Run(ctx) })
	return func() { cancel(); <-done }
}

func (c *cluster) submit(name string, extra string) {
	c.t.Helper()
	cfg := fmt.Sprintf("jobName=%s\nsrcType=local\nsrcPrefix=%s/\ndestType=local\ndestBucket=%s\ntaskObjectCountLimit=5\n%s",
		name, c.src, c.dest, extra)
	data, _ := json.Marshal(protocol.Job{Name: name, Config: []byte(cfg), File: "job.cfg", Submitted: time.Now()})
	if err := c.connect("console").CreateJob(c.ctx, name, data); err != nil {
		c.t.Fatal(err)
	}
}

// waitState polls stat until the job reaches state.
func (c *cluster) waitState(job, state string) tracker.JobStatus {
	c.t.Helper()
	var st tracker.JobStatus
	testenv.Wait(c.t, 30*time.Second, "job "+job+" to reach "+state, func() bool {
		var err error
		st, err = tracker.ReadStatus(c.dir, job)
		return err == nil && st.State == state
	}, func() string { return fmt.Sprintf("last status %+v\n%s", st, failedDetail(c.dir, job)) })
	return st
}

func (c *cluster) writeFiles(n int) map[string][]byte {
	files := map[string][]byte{}
	for i := range n {
		rel := fmt.Sprintf("d%d/f%03d.txt", i%3, i)
		files[rel] = bytes.Repeat([]byte{byte('a' + i%26)}, 100+i)
		if err := os.MkdirAll(filepath.Dir(filepath.Join(c.src, rel)), 0o755); err != nil {
			c.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(c.src, rel), files[rel], 0o644); err != nil {
			c.t.Fatal(err)
		}
	}
	return files
}

func (c *cluster) checkCopied(files map[string][]byte) {
	c.t.Helper()
	for rel, want := range files {
		got, err := os.ReadFile(filepath.Join(c.dest, rel))
		if err != nil || !bytes.Equal(got, want) {
			c.t.Fatalf("%s: copy differs or missing (%v)", rel, err)
		}
	}
}

func TestClusterCopiesAJob(t *testing.T) {
	c := newCluster(t)
	files := c.writeFiles(40)
	c.startMaster()
	c.startWorker("10.0.0.1")
	c.startWorker("10.0.0.2")
	c.submit("cluster_job", "")
	st := c.waitState("cluster_job", tracker.Succeed)
	if st.Succeed != 8 || st.Objects.Done != 40 || st.FailedObjs != 0 {
		t.Fatalf("status %+v", st)
	}
	c.checkCopied(files)
}

func TestWorkerStoppedMidJobHandsTasksBack(t *testing.T) {
	c := newCluster(t)
	// A task held by a worker that vanished would only come back after a
	// minute, beyond waitState's patience: the test passes only if the
	// stopped worker hands its tasks back at once.
	c.sys.TaskAckWait = time.Minute
	files := c.writeFiles(60)
	c.startMaster()
	stop := c.startWorker("10.0.0.1", func(s *config.Sys) { s.WorkerMaxThroughputKB = 1 })
	c.submit("handback_job", "")
	testenv.Wait(t, time.Minute, "a task dispatched", func() bool {
		st, _ := tracker.ReadStatus(c.dir, "handback_job")
		return st.Dispatched > 0
	})
	stop()
	c.startWorker("10.0.0.2")
	c.waitState("handback_job", tracker.Succeed)
	c.checkCopied(files)
	byWorker := map[string]int{}
	for _, id := range workdir.Subdirs(filepath.Join(c.dir.Job("handback_job"), workdir.Succeed)) {
		data, _ := os.ReadFile(filepath.Join(c.dir.Task("handback_job", workdir.Succeed, "", id), workdir.WorkerFile))
		byWorker[strings.TrimSpace(string(data))]++
	}
	if byWorker["10.0.0.2"] == 0 {
		t.Fatalf("tasks finished by worker: %v; the second worker should have taken over", byWorker)
	}
}

func TestAbortWhenDestinationBucketIsGone(t *testing.T) {
	c := newCluster(t)
	c.writeFiles(12)
	s3 := testenv.VersityGW(t)
	c.startMaster()
	c.startWorker("10.0.0.1")
	// The bucket was deleted (never created here): every object fails with
	// "bucket does not exist", so the job cannot proceed and aborts.
	c.submit("abort_job", fmt.Sprintf("destType=s3\ndestDomain=%s\ndestBucket=deleted-bucket\ndestAccessKey=%s\ndestSecretKey=%s\n",
		s3.Endpoint, s3.AccessKey, s3.SecretKey))
	st := c.waitState("abort_job", tracker.Abort)
	if !strings.Contains(st.Reason, "bucket") {
		t.Fatalf("abort reason %q does not name the bucket problem", st.Reason)
	}
}

// TestTaskFailsAfterMaxDeliveries gives every task to a worker that dies
// with it (never acks, never reports): after taskMaxDeliver deliveries the
// tracker fails the task with the reason, and the job fails.
func TestTaskFailsAfterMaxDeliveries(t *testing.T) {
	c := newCluster(t)
	c.sys.TaskAckWait, c.sys.TaskMaxDeliver = time.Second, 2
	c.writeFiles(3)
	c.startMaster()
	b := c.connect("black-hole")
	c.wg.Go(func() {
		for c.ctx.Err() == nil {
			if _, err := b.NextTask(c.ctx, "10.0.0.9"); err != nil && c.ctx.Err() == nil {
				time.Sleep(100 * time.Millisecond)
			}
		}
	})
	c.submit("dead_job", "")
	st := c.waitState("dead_job", tracker.Failed)
	if st.Failed != 1 || st.FailedObjs != 3 {
		t.Fatalf("status %+v, want the one task failed with its 3 objects", st)
	}
	audit, err := os.ReadFile(filepath.Join(c.dir.Task("dead_job", workdir.Failed, "", st.FailedTasks[0]), "audit.log"))
	if err != nil || !strings.Contains(string(audit), "taskMaxDeliver=2") {
		t.Fatalf("audit.log does not give the reason: %s (%v)", audit, err)
	}
}
