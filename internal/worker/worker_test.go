package worker_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/metrics"
	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/memory"
	"github.com/ossimport/ossimport/internal/testenv"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/worker"
)

// TestOneThroughputCapPerWorker: two jobs on a worker capped at 64 KiB/s
// share one limiter, so together they take at least as long as their
// bytes need at the cap (a lower bound: a loaded machine only makes it
// longer). With a limiter per job they would take half the time.
func TestOneThroughputCapPerWorker(t *testing.T) {
	r := newRig(t, func(s *config.Sys) { s.WorkerMaxThroughputKB, s.WorkerMaxRequestRate = 64, 1000 })
	results := r.results()
	const size, perJob = 32 << 10, 3
	for _, name := range []string{"job_a", "job_b"} {
		src := memory.New(name + "-src")
		r.submit(name, src, memory.New(name+"-dst"))
		r.queue(name, "T-"+name, objects(t, src, "k", perJob, size))
	}
	start := time.Now()
	w, _ := r.start("w1", nil)
	for range 2 {
		if res := next(t, results, "result"); res.Counters.Copied != perJob {
			t.Fatalf("task %s: %+v", res.TaskID, res.Counters)
		}
	}
	elapsed := time.Since(start)
	a, ra, okA := worker.Limiters(w, "job_a")
	b, rb, okB := worker.Limiters(w, "job_b")
	if !okA || !okB || a == nil || a != b || ra == nil || ra != rb {
		t.Fatalf("the jobs' copiers do not share the worker's limiters: %v %v / %v %v", a, b, ra, rb)
	}
	// 192 KiB at 64 KiB/s, of which at most one burst (32 KiB) is free.
	total, burst := float64(2*perJob*size), float64(32<<10)
	if least := time.Duration((total - burst) / (64 << 10) * 0.9 * float64(time.Second)); elapsed < least {
		t.Fatalf("two jobs moved %.0f bytes in %s, faster than the 64 KiB/s cap allows (%s)", total, elapsed, least)
	}
}

func TestAbortWhenUncatchedException(t *testing.T) {
	for _, abort := range []bool{true, false} {
		t.Run(map[bool]string{true: "abort", false: "skip"}[abort], func(t *testing.T) {
			// One object at a time, so the order is known.
			r := newRig(t, func(s *config.Sys) { s.WorkerTaskThreadNum, s.WorkerAbortWhenUncatchedException = 1, abort })
			results := r.results()
			src := memory.New("src")
			objs := objects(t, src, "k", 4, 100)
			dst := &failingDest{Store: memory.New("dst"), bad: map[string]bool{objs[1].Key: true}}
			r.submit("job1", src, dst)
			r.queue("job1", "T1", objs)
			m := metrics.New()
			r.start("w1", func(o *worker.Options) { o.Metrics = m })
			res := next(t, results, "result")
			failed, _ := metricValue(t, m, "ossimport_worker_objects_total", map[string]string{"worker": "w1", "job": "job1", "result": "UploadFailed"})
			inFlight, _ := metricValue(t, m, "ossimport_worker_objects_in_flight", map[string]string{"worker": "w1"})
			if want := map[bool]float64{true: 3, false: 1}[abort]; failed != want || inFlight != 0 {
				t.Errorf("metrics: %v objects failed, %v in flight; want %v and 0", failed, inFlight, want)
			}
			got := map[string]protocol.ObjectResult{}
			for _, o := range res.Objects {
				got[o.Object.Key] = o
			}
			if len(res.Objects) != 4 || len(got) != 4 || res.Abort != "" {
				t.Fatalf("result %+v: want 4 objects, no job abort", res)
			}
			if got[objs[0].Key].Code != transfer.Succeed || got[objs[1].Key].Code != transfer.UploadFailed || !strings.Contains(got[objs[1].Key].Detail, "something odd") {
				t.Fatalf("first objects: %+v %+v", got[objs[0].Key], got[objs[1].Key])
			}
			want := `task aborted after an unexpected error on "k001" (workerAbortWhenUncatchedException=true)`
			for _, o := range objs[2:] {
				g := got[o.Key]
				_, statErr := dst.Stat(t.Context(), o.Key)
				switch {
				case abort && (g.Code != transfer.UploadFailed || g.Detail != want || statErr == nil):
					t.Errorf("%s after the abort: %s %q (copied: %v), want UploadFailed %q", o.Key, g.Code, g.Detail, statErr == nil, want)
				case !abort && (g.Code != transfer.Succeed || statErr != nil):
					t.Errorf("%s: %s %q, want it copied", o.Key, g.Code, g.Detail)
				}
			}
		})
	}
}

// TestDestinationRefusingEverythingAbortsTheJob: the abort rule of
// workerAbortWhenUncatchedException leaves the job rule alone: when every
// object is refused by the destination the result asks for a job abort.
func TestDestinationRefusingEverythingAbortsTheJob(t *testing.T) {
	r := newRig(t, func(s *config.Sys) { s.WorkerAbortWhenUncatchedException = true })
	results := r.results()
	src := memory.New("src")
	r.submit("job1", src, &failingDest{Store: memory.New("dst"), refuse: storage.ErrAccessDenied})
	r.queue("job1", "T1", objects(t, src, "k", 3, 10))
	r.start("w1", nil)
	res := next(t, results, "result")
	if res.Counters.Failed != 3 || !strings.Contains(res.Abort, "access denied") {
		t.Fatalf("result %+v, want 3 failures and a job abort naming the refusal", res)
	}
	for _, o := range res.Objects {
		if strings.Contains(o.Detail, "workerAbortWhenUncatchedException") {
			t.Errorf("a refusal is classified, yet %s was aborted: %s", o.Object.Key, o.Detail)
		}
	}
}

// TestLiveProgress: while an object is being read, progress reports
// count the bytes read so far, every workerProgressInterval, whatever
// taskAckWait (30s here, so the ack deadline is extended only every 10s).
func TestLiveProgress(t *testing.T) {
	r := newRig(t, func(s *config.Sys) { s.WorkerProgressInterval = 100 * time.Millisecond })
	results, progress := r.results(), r.progress()
	base := memory.New("src")
	small := objects(t, base, "small", 2, 1000)
	big := objects(t, base, "big", 1, 256<<10)[0]
	src := newGatedSource(base, big.Key, 100<<10)
	r.submit("job1", src, memory.New("dst"))
	r.queue("job1", "T1", append(small, big))
	r.start("w1", nil)
	next(t, src.reached, "read at the gate")
	want := protocol.TaskProgress{Job: "job1", TaskID: "T1", Worker: "w1", FilesDone: 2, FilesTotal: 3,
		BytesDone: 2000 + 100<<10, BytesTotal: 2000 + 256<<10, BytesInFlight: 100 << 10, FilesInFlight: 1, BytesCopied: 2000 + 100<<10}
	reports := 0
	for {
		p := next(t, progress, "progress")
		p.At = time.Time{}
		if p == want {
			reports++
		}
		if reports == 3 { // the same state, reported again and again
			break
		}
	}
	close(src.release)
	if res := next(t, results, "result"); res.Counters.Copied != 3 {
		t.Fatalf("result %+v", res.Counters)
	}
}

// TestHeartbeatsWhileBusy: a worker busy on a long task keeps its entry
// in the workers bucket across several of the bucket's TTLs (three
// heartbeat intervals), though taskAckWait/3 is far longer than the TTL.
func TestHeartbeatsWhileBusy(t *testing.T) {
	r := newRig(t, func(s *config.Sys) { s.WorkerHeartbeatInterval = 500 * time.Millisecond })
	base := memory.New("src")
	obj := objects(t, base, "k", 1, 10<<10)[0]
	src := newGatedSource(base, obj.Key, 5<<10)
	defer close(src.release)
	r.submit("job1", src, memory.New("dst"))
	r.queue("job1", "T1", []transfer.Object{obj})
	r.start("10.0.0.7", nil)
	next(t, src.reached, "read at the gate")
	testenv.Wait(t, 10*time.Second, "a heartbeat", func() bool {
		_, err := r.bus.Workers().Get(r.ctx, "10.0.0.7")
		return err == nil
	})
	ttl := 3 * r.sys.WorkerHeartbeatInterval
	var hb protocol.Heartbeat
	for end := time.Now().Add(3 * ttl); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		data, err := r.bus.Workers().Get(r.ctx, "10.0.0.7")
		if err != nil {
			t.Fatalf("the busy worker's entry is gone: %v", err)
		}
		if err := json.Unmarshal(data, &hb); err != nil {
			t.Fatal(err)
		}
	}
	if hb.Running != 1 {
		t.Fatalf("last heartbeat %+v, want 1 running task", hb)
	}
}

// TestJobSubmittedAgainGetsNewStores: a job cleaned and submitted again
// under its name while the worker runs is copied with its new stores,
// not with the ones the worker opened for the first submission.
func TestJobSubmittedAgainGetsNewStores(t *testing.T) {
	r := newRig(t, nil)
	src := memory.New("src")
	objs := objects(t, src, "k", 1, 100)
	first, second := memory.New("first"), memory.New("second")
	results := r.results()
	r.start("10.0.0.9", nil)

	r.submit("again_job", src, first)
	r.queue("again_job", "T1", objs)
	if res := <-results; res.Counters.Copied != 1 {
		t.Fatalf("first submission: %+v", res.Counters)
	}
	if err := r.bus.Jobs().Delete(r.ctx, "again_job"); err != nil {
		t.Fatal(err)
	}
	r.submit("again_job", src, second)
	r.queue("again_job", "T2", objs)
	if res := <-results; res.Counters.Copied != 1 {
		t.Fatalf("second submission: %+v", res.Counters)
	}
	if _, err := second.Stat(t.Context(), objs[0].Key); err != nil {
		t.Fatalf("the job submitted again did not copy to its new destination: %v", err)
	}
}

// TestRestartedWorkerHandsBackItsPreviousRun: a worker killed while it
// held a task and started again under its name at once (it never looked
// lost) hands that task out again as it starts and copies it, long
// before the ten-minute ack wait would have.
func TestRestartedWorkerHandsBackItsPreviousRun(t *testing.T) {
	r := newRig(t, func(s *config.Sys) { s.TaskAckWait = 10 * time.Minute })
	results := r.results()
	src := memory.New("src")
	r.submit("restart_job", src, memory.New("dst"))
	r.queue("restart_job", "T1", objects(t, src, "k", 2, 100))
	// The previous run: it took and claimed the task, then was killed.
	previous := r.connect("w1")
	msg, err := previous.NextTask(r.ctx, "w1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := msg.Claim(r.ctx); err != nil {
		t.Fatal(err)
	}
	r.start("w1", nil)
	res := next(t, results, "the previous run's task, copied by the restarted worker")
	if res.TaskID != "T1" || res.Counters.Copied != 2 || res.Attempt != 2 {
		t.Fatalf("result %s: %+v (attempt %d), want T1 with 2 copied on its second delivery", res.TaskID, res.Counters, res.Attempt)
	}
}

// TestHeartbeatsAtTheMastersInterval: a worker whose
// workerHeartbeatInterval (30 s) is longer than the master's (1 s: its
// heartbeats last 3 s on the bus) beats at the master's interval, so it
// never looks lost between beats.
func TestHeartbeatsAtTheMastersInterval(t *testing.T) {
	r := newRig(t, func(s *config.Sys) { s.WorkerHeartbeatInterval = time.Second })
	updates, err := r.bus.Workers().Watch(r.ctx, "w1")
	if err != nil {
		t.Fatal(err)
	}
	r.start("w1", func(o *worker.Options) { o.Settings.HeartbeatInterval = 30 * time.Second })
	var beats []time.Time
	deadline := time.After(testenv.Scale(time.Minute))
	for len(beats) < 3 {
		select {
		case e := <-updates:
			var hb protocol.Heartbeat
			if !e.Deleted && json.Unmarshal(e.Value, &hb) == nil {
				beats = append(beats, hb.At)
			}
		case <-deadline:
			t.Fatalf("%d heartbeats of w1 in a minute, want 3 (one a second)", len(beats))
		}
	}
	if gap := beats[2].Sub(beats[1]); gap > 3*time.Second {
		t.Fatalf("heartbeats %s apart, want the master's interval (1s), below the 3s they last", gap)
	}
}
