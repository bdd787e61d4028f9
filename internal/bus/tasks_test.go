package bus

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

func TestTwoWorkersDrainEveryTaskOnce(t *testing.T) {
	t.Parallel()
	srv, master := newBus(t, SetupOptions{})
	const jobs, perJob = 3, 30
	for j := range jobs {
		for i := range perJob {
			job, id := fmt.Sprintf("job%d", j), fmt.Sprintf("T%d_%d", j, i)
			must(t, master.PublishTask(tctx(t), job, id, []byte(job+"/"+id)))
		}
	}
	var mu sync.Mutex
	seen := map[string]int{}
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for w := range 2 {
		b := connect(t, srv, SetupOptions{})
		wg.Go(func() {
			for {
				m, err := b.NextTask(ctx, fmt.Sprintf("w%d", w))
				if err != nil {
					return
				}
				if d, err := m.Data(); err != nil || string(d) != m.Job+"/"+m.TaskID {
					t.Errorf("task %s data %q, %v", m.TaskID, d, err)
				}
				if err := m.Ack(); err != nil {
					t.Error(err)
				}
				mu.Lock()
				seen[m.TaskID]++
				if len(seen) == jobs*perJob {
					cancel()
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != jobs*perJob {
		t.Fatalf("drained %d distinct tasks, want %d", len(seen), jobs*perJob)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("task %s delivered %d times", id, n)
		}
	}
	for j := range jobs {
		if n, err := master.Pending(tctx(t), fmt.Sprintf("job%d", j)); err != nil || n != 0 {
			t.Errorf("job%d pending %d, %v", j, n, err)
		}
	}
}

func TestDuplicatePublishStoredOnce(t *testing.T) {
	_, b := newBus(t, SetupOptions{})
	for range 3 {
		must(t, b.PublishTask(tctx(t), "dupjob", "SAME", []byte("x")))
	}
	// The stream's count is exact once the publish is acknowledged; the
	// consumer's pending count follows it a moment later (the server
	// answers the publish before it signals its consumers).
	if n := storedTasks(t, b, "dupjob"); n != 1 {
		t.Fatalf("stored %d tasks; want 1", n)
	}
	waitPending(t, b, "dupjob", 1)
	// A retry is a new attempt, not a duplicate; the same retry twice is.
	m := next(t, b, "w")
	must(t, m.Ack())
	must(t, b.RetryTask(tctx(t), "dupjob", "SAME", 1, []byte("x")))
	must(t, b.RetryTask(tctx(t), "dupjob", "SAME", 1, []byte("x")))
	if n := storedTasks(t, b, "dupjob"); n != 1 {
		t.Fatalf("stored %d tasks after the retry; want 1", n)
	}
	waitPending(t, b, "dupjob", 1)
	if m := next(t, b, "w"); m.TaskID != "SAME" {
		t.Fatalf("retried task id %q", m.TaskID)
	}
}

func TestJobsServedFairly(t *testing.T) {
	_, b := newBus(t, SetupOptions{})
	for i := range 100 {
		must(t, b.PublishTask(tctx(t), "bigjob", fmt.Sprint("A", i), nil))
	}
	for i := range 5 {
		must(t, b.PublishTask(tctx(t), "smalljob", fmt.Sprint("B", i), nil))
	}
	small := 0
	var order []string
	for range 10 {
		m := next(t, b, "w")
		order = append(order, m.TaskID)
		if m.Job == "smalljob" {
			small++
		}
		must(t, m.Ack())
	}
	if small != 5 {
		t.Fatalf("first 10 tasks %v hold %d of smalljob's 5", order, small)
	}
}

func TestLargePayloads(t *testing.T) {
	_, b := newBus(t, SetupOptions{})
	random := make([]byte, 3<<20)
	rand.Read(random)
	compressible := bytes.Repeat([]byte("ossimport task object list line\n"), (3<<20)/32)
	must(t, b.PublishTask(tctx(t), "bigdata", "random", random))
	must(t, b.PublishTask(tctx(t), "bigdata", "text", compressible))
	st, _ := b.state()

	for _, tc := range []struct {
		id         string
		data       []byte
		wantObject bool
	}{{"random", random, true}, {"text", compressible, false}} {
		m := next(t, b, "w")
		if m.TaskID != tc.id {
			t.Fatalf("got task %s, want %s", m.TaskID, tc.id)
		}
		obj, enc := m.msg.Headers().Get(hdrObject), m.msg.Headers().Get(hdrEncoding)
		if (obj != "") != tc.wantObject || (!tc.wantObject && enc != encZstd) {
			t.Errorf("%s: object %q encoding %q", tc.id, obj, enc)
		}
		if !bytes.Equal(mustData(t, m), tc.data) {
			t.Fatalf("%s: payload differs after the round trip", tc.id)
		}
		must(t, m.Ack())
		if obj != "" {
			if _, err := st.data.GetInfo(tctx(t), obj); !errors.Is(err, jetstream.ErrObjectNotFound) {
				t.Errorf("object %s still there after ack: %v", obj, err)
			}
		}
	}
}

func TestUnackedTaskRedelivered(t *testing.T) {
	t.Parallel()
	so := SetupOptions{AckWait: time.Second, RedeliveryPoll: 100 * time.Millisecond}
	srv, w1 := newBus(t, so)
	w2 := connect(t, srv, so)
	must(t, w1.PublishTask(tctx(t), "rjob", "T1", []byte("x")))
	first := next(t, w1, "w1") // w1 "dies": no ack, no heartbeat
	again := next(t, w2, "w2")
	if again.TaskID != first.TaskID || again.Delivered != 2 {
		t.Fatalf("w2 got %s delivery %d, want %s delivery 2", again.TaskID, again.Delivered, first.TaskID)
	}
	must(t, again.Ack())
}

func TestInProgressKeepsTask(t *testing.T) {
	t.Parallel()
	so := SetupOptions{AckWait: time.Second, RedeliveryPoll: 100 * time.Millisecond}
	srv, w1 := newBus(t, so)
	w2 := connect(t, srv, so)
	must(t, w1.PublishTask(tctx(t), "hjob", "T1", []byte("x")))
	m := next(t, w1, "w1")
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { // the worker's heartbeat while a long task runs
		tick := time.NewTicker(300 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if err := m.InProgress(); err != nil {
					t.Error(err)
				}
			}
		}
	})
	ctx, cancel := context.WithTimeout(t.Context(), 2500*time.Millisecond)
	defer cancel()
	if got, err := w2.NextTask(ctx, "w2"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("w2 got %v, %v while w1 kept the task alive", got, err)
	}
	close(done)
	wg.Wait()
	must(t, m.Ack())
}

func TestDeadTasksReported(t *testing.T) {
	so := SetupOptions{MaxDeliver: 2, RedeliveryPoll: 100 * time.Millisecond}
	_, b := newBus(t, so)
	dead, err := b.DeadTasks(tctx(t))
	must(t, err)
	must(t, b.PublishTask(tctx(t), "djob", "BAD", []byte("payload")))
	for i := range 2 {
		m := next(t, b, "w")
		if m.TaskID != "BAD" || m.Delivered != uint64(i+1) {
			t.Fatalf("got %s delivery %d", m.TaskID, m.Delivered)
		}
		must(t, m.Nak(0))
	}
	// An idle worker keeps asking; the server gives up on the task.
	ctx, cancel := context.WithCancel(tctx(t))
	defer cancel()
	idle := make(chan error, 1)
	go func() { _, err := b.NextTask(ctx, "w"); idle <- err }()
	select {
	case d := <-dead:
		if d.Job != "djob" || d.TaskID != "BAD" || d.Deliveries != 2 {
			t.Errorf("dead task %+v", d)
		}
		if data, err := d.Data(); err != nil || string(data) != "payload" {
			t.Errorf("dead task data %q, %v", data, err)
		}
		must(t, d.Ack())
	case <-tctx(t).Done():
		t.Fatal("no dead task reported")
	}
	cancel()
	if err := <-idle; !errors.Is(err, context.Canceled) {
		t.Errorf("idle worker: %v", err)
	}
	st, _ := b.state()
	if info, err := st.tasks.Info(tctx(t)); err != nil || info.State.Msgs != 0 {
		t.Errorf("task stream after dead-task ack: %+v, %v", info.State, err)
	}
}

func TestPurgeJob(t *testing.T) {
	_, b := newBus(t, SetupOptions{})
	big := make([]byte, 2<<20)
	rand.Read(big)
	must(t, b.PublishTask(tctx(t), "cleanme", "T1", big))
	must(t, b.PublishTask(tctx(t), "cleanme", "T2", nil))
	must(t, b.PublishTask(tctx(t), "keepme", "K1", nil))
	must(t, b.PublishResult(tctx(t), "cleanme", "T0", big))
	must(t, b.PurgeJob(tctx(t), "cleanme"))
	if n, err := b.Pending(tctx(t), "cleanme"); err != nil || n != 0 {
		t.Errorf("pending after purge %d, %v", n, err)
	}
	st, _ := b.state()
	if objs, err := st.data.List(tctx(t)); !errors.Is(err, jetstream.ErrNoObjectsFound) {
		t.Errorf("objects left after purge: %d, %v", len(objs), err)
	}
	if m := next(t, b, "w"); m.TaskID != "K1" {
		t.Errorf("got %s, want the other job's task", m.TaskID)
	}
	// The job can be submitted again (a new scan stamps new task IDs).
	must(t, b.PublishTask(tctx(t), "cleanme", "T1b", []byte("again")))
	if m := next(t, b, "w"); m.TaskID != "T1b" || string(mustData(t, m)) != "again" {
		t.Errorf("got %s after resubmission", m.TaskID)
	}
}

func TestNotSetUp(t *testing.T) {
	srv := startServer(t, serverOpts(t))
	b, err := Connect(tctx(t), ConnOptions{Server: srv})
	must(t, err)
	defer b.Close()
	if err := b.PublishTask(tctx(t), "j", "t", nil); !errors.Is(err, ErrNotSetUp) {
		t.Errorf("PublishTask: %v", err)
	}
	if _, err := b.Jobs().Get(tctx(t), "j"); !errors.Is(err, ErrNotSetUp) {
		t.Errorf("Get: %v", err)
	}
}

// A task delivered to a worker that died is handed out again at once
// after Redeliver, long before its ack deadline; acknowledged tasks are
// not.
func TestRedeliverHandsBackUnackedTasksAtOnce(t *testing.T) {
	srv, master := newBus(t, SetupOptions{AckWait: time.Hour})
	for _, id := range []string{"A", "B", "C"} {
		must(t, master.PublishTask(tctx(t), "rjob", id, []byte(id)))
	}
	dead := connect(t, srv, SetupOptions{AckWait: time.Hour})
	got := map[string]bool{}
	for range 2 {
		got[next(t, dead, "dead").TaskID] = true // held, never acked
	}
	acked := next(t, master, "alive")
	must(t, acked.Ack())
	if got[acked.TaskID] || len(got) != 2 {
		t.Fatalf("deliveries %v and %s overlap", got, acked.TaskID)
	}
	must(t, master.Redeliver(tctx(t), "rjob"))
	fresh := connect(t, srv, SetupOptions{AckWait: time.Hour})
	again := map[string]bool{}
	for range 2 {
		m := next(t, fresh, "fresh")
		again[m.TaskID] = true
		must(t, m.Ack())
	}
	for id := range got {
		if !again[id] {
			t.Errorf("task %s held by the dead worker was not handed out again (got %v)", id, again)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	if m, err := fresh.NextTask(ctx, "fresh"); err == nil {
		t.Fatalf("task %s handed out a second time after it was acknowledged", m.TaskID)
	}
	// Nothing held: Redeliver changes nothing.
	must(t, master.Redeliver(tctx(t), "rjob"))
	must(t, master.Redeliver(tctx(t), "nosuchjob"))
}
