package bus

import (
	"errors"
	"sync"
	"testing"
	"time"
)

// TestClaimSuperseded: a delivery that passed its ack wait loses its
// task to the next delivery's claim; releasing the stale claim leaves
// the new one alone; releasing the new one ends ownership.
func TestClaimSuperseded(t *testing.T) {
	t.Parallel()
	so := SetupOptions{AckWait: time.Second, RedeliveryPoll: 100 * time.Millisecond}
	srv, w1 := newBus(t, so)
	w2 := connect(t, srv, so)
	must(t, w1.PublishTask(tctx(t), "cjob", "T1", []byte("x")))
	first := next(t, w1, "w1")
	c1, err := first.Claim(tctx(t))
	must(t, err)
	must(t, c1.Check(tctx(t)))
	if c1.Owner.Worker != "w1" || c1.Owner.Delivered != 1 || c1.Owner.Stream == 0 {
		t.Fatalf("claim records %+v", c1.Owner)
	}
	again := next(t, w2, "w2") // after w1's ack wait
	c2, err := again.Claim(tctx(t))
	must(t, err)
	if err := c1.Check(tctx(t)); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("stale claim: Check = %v, want ErrNotOwner", err)
	}
	t.Log(c1.Check(tctx(t)))
	must(t, c2.Check(tctx(t)))
	must(t, c1.Release(tctx(t)))
	must(t, c2.Check(tctx(t)))
	must(t, c2.Release(tctx(t)))
	if err := c2.Check(tctx(t)); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("released claim: Check = %v, want ErrNotOwner", err)
	}
	must(t, again.Ack())
}

// TestClaimsRace: of many deliveries claiming at once, exactly one holds
// the task afterwards.
func TestClaimsRace(t *testing.T) {
	t.Parallel()
	_, b := newBus(t, SetupOptions{})
	must(t, b.PublishTask(tctx(t), "rjob", "T1", []byte("x")))
	m := next(t, b, "w")
	claims := make([]*Claim, 8)
	var wg sync.WaitGroup
	for i := range claims {
		wg.Go(func() {
			c, err := m.Claim(tctx(t))
			if err != nil {
				t.Error(err)
				return
			}
			claims[i] = c
		})
	}
	wg.Wait()
	holders := 0
	for _, c := range claims {
		if c != nil && c.Check(tctx(t)) == nil {
			holders++
		}
	}
	if holders != 1 {
		t.Fatalf("%d claims hold the task, want 1", holders)
	}
}

// TestCleanDropsClaims: cleaning a job ends the ownership of its running
// tasks.
func TestCleanDropsClaims(t *testing.T) {
	t.Parallel()
	_, b := newBus(t, SetupOptions{})
	must(t, b.PublishTask(tctx(t), "djob", "T1", []byte("x")))
	c, err := next(t, b, "w").Claim(tctx(t))
	must(t, err)
	must(t, b.PurgeJob(tctx(t), "djob"))
	if err := c.Check(tctx(t)); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("after clean: Check = %v, want ErrNotOwner", err)
	}
}

// BenchmarkClaimCheck measures the fence check a worker makes before
// each write (one KV get on a local server over TCP).
func BenchmarkClaimCheck(b *testing.B) {
	opts := ServerOptions{Dir: b.TempDir() + "/nats", TokenFile: b.TempDir() + "/token", Port: -1}
	srv, err := StartServer(opts)
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Shutdown()
	bs, err := Connect(b.Context(), ConnOptions{URLs: srv.ClientURL(), Token: srv.Token()})
	if err != nil {
		b.Fatal(err)
	}
	defer bs.Close()
	if err := bs.Setup(b.Context(), SetupOptions{}); err != nil {
		b.Fatal(err)
	}
	if err := bs.PublishTask(b.Context(), "bjob", "T1", []byte("x")); err != nil {
		b.Fatal(err)
	}
	m, err := bs.NextTask(b.Context(), "w")
	if err != nil {
		b.Fatal(err)
	}
	c, err := m.Claim(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := c.Check(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
}
