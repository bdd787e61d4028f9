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

	"github.com/ossimport/ossimport/internal/testenv"
)

// follow runs b.Follow from seq with handle until the test ends.
func follow(t *testing.T, b *Bus, from uint64, handle func(JournalEntry) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- b.Follow(ctx, from, handle) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Follow: %v", err)
		}
	})
}

// TestFollowRetriesAFailedEntryInOrder: an entry whose handler fails is
// handled again before any entry after it; large payloads arrive whole.
func TestFollowRetriesAFailedEntryInOrder(t *testing.T) {
	_, b := newBus(t, SetupOptions{})
	big := make([]byte, 3<<20)
	rand.Read(big)
	must(t, b.PublishResult(tctx(t), "rjob", "T1", []byte("r1")))
	must(t, b.PublishResult(tctx(t), "rjob", "T2", big))
	must(t, b.Append(tctx(t), "rjob", KindAbort, "", "", []byte("stop")))

	var mu sync.Mutex
	var order []string
	end := make(chan struct{})
	fails := 1
	follow(t, b, 0, func(e JournalEntry) error {
		mu.Lock()
		defer mu.Unlock()
		order = append(order, e.TaskID+e.Kind)
		switch {
		case e.TaskID == "T1" && fails > 0:
			fails--
			return errors.New("disk full")
		case e.TaskID == "T2" && !bytes.Equal(e.Data, big):
			t.Errorf("large result differs")
		case e.Kind == KindAbort && string(e.Data) == "stop":
			close(end)
		}
		return nil
	})
	select {
	case <-end:
	case <-tctx(t).Done():
		t.Fatal("entries not all handled")
	}
	mu.Lock()
	defer mu.Unlock()
	if got := fmt.Sprint(order); got != "[T1 T1 T2 abort]" {
		t.Errorf("handled %s, want [T1 T1 T2 abort]", got)
	}
}

// TestFollowFromASequence: a follower resumes after the last entry it
// handled; entries appended twice with one message ID are stored once.
func TestFollowFromASequence(t *testing.T) {
	_, b := newBus(t, SetupOptions{})
	for i := range 5 {
		must(t, b.PublishResult(tctx(t), "ajob", fmt.Sprint("T", i), nil))
	}
	must(t, b.Append(tctx(t), "ajob", KindPlanned, "P", "P", []byte("task")))
	must(t, b.Append(tctx(t), "ajob", KindPlanned, "P", "P", []byte("task")))
	end, err := b.JournalEnd(tctx(t))
	if err != nil || end != 6 {
		t.Fatalf("journal end %d, %v; want 6 (the duplicate dropped)", end, err)
	}
	got := make(chan JournalEntry, 100)
	ctx, cancel := context.WithCancel(tctx(t))
	done := make(chan error, 1)
	go func() { done <- b.Follow(ctx, 0, func(e JournalEntry) error { got <- e; return nil }) }()
	var last uint64
	for range 6 {
		last = (<-got).Seq
	}
	cancel()
	must(t, <-done)

	must(t, b.PublishResult(tctx(t), "ajob", "NEW", nil))
	follow(t, b, last+1, func(e JournalEntry) error { got <- e; return nil })
	if e := <-got; e.TaskID != "NEW" || e.Seq != last+1 {
		t.Fatalf("resumed follower got %s at %d, want NEW at %d", e.TaskID, e.Seq, last+1)
	}
}

func TestStatePersistsAcrossRestart(t *testing.T) {
	opts := serverOpts(t)
	srv := startServer(t, opts)
	b := connect(t, srv, SetupOptions{})
	for i := range 3 {
		must(t, b.PublishTask(tctx(t), "pjob", fmt.Sprint("T", i), []byte("task")))
	}
	must(t, b.PublishResult(tctx(t), "pjob", "R0", []byte("result")))
	must(t, b.CreateJob(tctx(t), "pjob", []byte("spec")))
	b.Close()
	srv.Shutdown()

	srv = startServer(t, opts)
	b = connect(t, srv, SetupOptions{})
	if n := storedTasks(t, b, "pjob"); n != 3 {
		t.Fatalf("stored after restart %d; want 3", n)
	}
	waitPending(t, b, "pjob", 3)
	if spec, err := b.Jobs().Get(tctx(t), "pjob"); err != nil || string(spec) != "spec" {
		t.Fatalf("job after restart %q, %v", spec, err)
	}
	if m := next(t, b, "w"); string(mustData(t, m)) != "task" {
		t.Fatalf("task after restart: %s", m.TaskID)
	}
	got := make(chan JournalEntry, 1)
	follow(t, b, 0, func(r JournalEntry) error { got <- r; return nil })
	if r := <-got; r.TaskID != "R0" || string(r.Data) != "result" {
		t.Fatalf("result after restart %s %q", r.TaskID, r.Data)
	}
}

func TestProgress(t *testing.T) {
	_, b := newBus(t, SetupOptions{})
	got := make(chan Progress, 1)
	must(t, b.SubscribeProgress(tctx(t), func(p Progress) { got <- p }))
	must(t, b.PublishProgress("pjob", "T1", "10.0.0.7", []byte("100/200 1/2")))
	select {
	case p := <-got:
		if p.Job != "pjob" || p.TaskID != "T1" || p.Worker != "10.0.0.7" || string(p.Data) != "100/200 1/2" {
			t.Errorf("progress %+v", p)
		}
	case <-tctx(t).Done():
		t.Fatal("no progress received")
	}
}

func TestReconnectAfterServerRestart(t *testing.T) {
	opts := serverOpts(t)
	port, err := testenv.FreePort("127.0.0.1")
	must(t, err)
	opts.Port = port
	srv := startServer(t, opts)
	b := connect(t, srv, SetupOptions{})
	got := make(chan JournalEntry, 10)
	follow(t, b, 0, func(r JournalEntry) error { got <- r; return nil })
	must(t, b.PublishResult(tctx(t), "cjob", "BEFORE", nil))
	if r := <-got; r.TaskID != "BEFORE" {
		t.Fatalf("got %s", r.TaskID)
	}
	srv.Shutdown()
	startServer(t, opts)
	// The same connection comes back by itself; so does the consumer. A
	// request written before the client saw the disconnect is lost, so
	// the (idempotent) publish is retried, as callers do.
	retry(t, func(ctx context.Context) error { return b.PublishTask(ctx, "cjob", "T1", []byte("x")) })
	must(t, b.PublishResult(tctx(t), "cjob", "AFTER", nil))
	if m := next(t, b, "w"); m.TaskID != "T1" {
		t.Fatalf("got task %s", m.TaskID)
	}
	select {
	case r := <-got:
		if r.TaskID != "AFTER" {
			t.Fatalf("got result %s", r.TaskID)
		}
	case <-tctx(t).Done():
		t.Fatal("Results did not resume after the restart")
	}
}

// retry calls f with a short timeout until it succeeds or the test times
// out.
func retry(t *testing.T, f func(context.Context) error) {
	t.Helper()
	deadline := tctx(t)
	for {
		ctx, cancel := context.WithTimeout(deadline, time.Second)
		err := f(ctx)
		cancel()
		if err == nil {
			return
		}
		if deadline.Err() != nil {
			t.Fatal(err)
		}
	}
}
