package bus

import (
	"context"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/testenv"
)

// TestHandBackLost: a task claimed by a worker whose heartbeat expired
// goes to another worker at once (the ack wait is ten minutes), its claim
// is superseded, and a task claimed by a worker that keeps beating stays
// where it is.
func TestHandBackLost(t *testing.T) {
	t.Parallel()
	// The heartbeats' time to live is scaled like every deadline: on a
	// loaded machine a live worker's beat must not lapse between two.
	so := SetupOptions{AckWait: 10 * time.Minute, HeartbeatInterval: testenv.Scale(time.Second), RedeliveryPoll: 100 * time.Millisecond}
	srv, master := newBus(t, so)
	lost, live, other := connect(t, srv, so), connect(t, srv, so), connect(t, srv, so)
	must(t, master.PublishTask(tctx(t), "ljob", "T1", []byte("x")))
	must(t, master.PublishTask(tctx(t), "ljob", "T2", []byte("y")))
	must(t, lost.Heartbeat(tctx(t), "lost", []byte("{}")))
	must(t, live.Heartbeat(tctx(t), "live", []byte("{}")))
	// "live" keeps beating from now on, while the tasks are taken;
	// "lost" goes silent once it claimed.
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	go func() {
		for ctx.Err() == nil {
			_ = live.Heartbeat(ctx, "live", []byte("{}"))
			select {
			case <-ctx.Done():
			case <-time.After(so.HeartbeatInterval / 4):
			}
		}
	}()
	m1 := next(t, lost, "lost")
	c1, err := m1.Claim(tctx(t))
	must(t, err)
	m2 := next(t, live, "live")
	c2, err := m2.Claim(tctx(t))
	must(t, err)
	if m1.TaskID == m2.TaskID {
		t.Fatalf("both workers got %s", m1.TaskID)
	}
	var got []Claimed
	testenv.Wait(t, 30*time.Second, "the lost worker's claim found", func() bool {
		got, err = master.LostClaims(tctx(t))
		must(t, err)
		return len(got) > 0
	})
	if len(got) != 1 || got[0].Job != "ljob" || got[0].Task != m1.TaskID || got[0].Owner.Worker != "lost" {
		t.Fatalf("lost claims %+v, want only %s of worker lost", got, m1.TaskID)
	}
	again := handBackNow(t, master, got[0], other, "other")
	c3, err := again.Claim(tctx(t))
	must(t, err)
	if err := c1.Check(tctx(t)); err == nil {
		t.Error("the lost worker's claim still holds after the task was handed back")
	}
	must(t, c2.Check(tctx(t)))
	must(t, c3.Check(tctx(t)))
	if got, err := master.LostClaims(tctx(t)); err != nil || len(got) != 0 {
		t.Fatalf("lost claims after the hand-back: %+v (%v), want none", got, err)
	}
}

// TestClaimsOfARestartedWorker: a worker restarted under its name within
// its heartbeats' time to live never looks lost, so LostClaims leaves
// its previous run's task alone; ClaimsOf finds it and HandBack has it
// delivered again at once, not after the ack wait.
func TestClaimsOfARestartedWorker(t *testing.T) {
	t.Parallel()
	so := SetupOptions{AckWait: 10 * time.Minute, HeartbeatInterval: time.Second, RedeliveryPoll: 100 * time.Millisecond}
	srv, master := newBus(t, so)
	before, after := connect(t, srv, so), connect(t, srv, so)
	must(t, master.PublishTask(tctx(t), "rjob", "T1", []byte("x")))
	must(t, before.Heartbeat(tctx(t), "w", []byte("{}")))
	m1 := next(t, before, "w")
	c1, err := m1.Claim(tctx(t))
	must(t, err)
	// The restarted run beats under the same name: the worker is alive.
	must(t, after.Heartbeat(tctx(t), "w", []byte("{}")))
	if got, err := master.LostClaims(tctx(t)); err != nil || len(got) != 0 {
		t.Fatalf("lost claims %+v (%v), want none: the worker is alive", got, err)
	}
	if got, err := after.ClaimsOf(tctx(t), "someone-else"); err != nil || len(got) != 0 {
		t.Fatalf("claims of another worker %+v (%v), want none", got, err)
	}
	got, err := after.ClaimsOf(tctx(t), "w")
	must(t, err)
	if len(got) != 1 || got[0].Job != "rjob" || got[0].Task != m1.TaskID || got[0].Owner.Delivered != 1 {
		t.Fatalf("claims of w %+v, want %s of the previous run", got, m1.TaskID)
	}
	again := handBackNow(t, after, got[0], after, "w")
	if _, err := again.Claim(tctx(t)); err != nil {
		t.Fatal(err)
	}
	if err := c1.Check(tctx(t)); err == nil {
		t.Error("the previous run's claim still holds")
	}
}

// TestLostClaimsWithNoWorkerAlive: with every worker's heartbeat
// expired (the workers bucket empty), the lost worker's claim is found,
// not an error.
func TestLostClaimsWithNoWorkerAlive(t *testing.T) {
	t.Parallel()
	so := SetupOptions{AckWait: time.Minute, HeartbeatInterval: 200 * time.Millisecond, RedeliveryPoll: 100 * time.Millisecond}
	srv, master := newBus(t, so)
	lost := connect(t, srv, so)
	must(t, master.PublishTask(tctx(t), "njob", "T1", []byte("x")))
	m1 := next(t, lost, "lost")
	if _, err := m1.Claim(tctx(t)); err != nil {
		t.Fatal(err)
	}
	testenv.Wait(t, 30*time.Second, "the claim of the only, lost worker found", func() bool {
		got, err := master.LostClaims(tctx(t))
		must(t, err)
		return len(got) == 1 && got[0].Task == m1.TaskID
	})
}

// handBackNow hands c back through by and returns its task as worker
// (on to) fetches it next: its second delivery, within next's deadline,
// long before the ten minutes of ack wait the tests set.
func handBackNow(t *testing.T, by *Bus, c Claimed, to *Bus, worker string) *TaskMsg {
	t.Helper()
	must(t, by.HandBack(tctx(t), c))
	again := next(t, to, worker)
	if again.TaskID != c.Task || again.Delivered != 2 {
		t.Fatalf("%s got %s (delivery %d), want %s again", worker, again.TaskID, again.Delivered, c.Task)
	}
	return again
}
