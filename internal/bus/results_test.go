package bus

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"
)

// runResults runs b.Results with handle until the test ends.
func runResults(t *testing.T, b *Bus, handle func(ResultMsg) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- b.Results(ctx, handle) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Results: %v", err)
		}
	})
}

func TestResultHandlerErrorRedelivers(t *testing.T) {
	_, b := newBus(t, SetupOptions{})
	big := make([]byte, 3<<20)
	rand.Read(big)
	must(t, b.PublishResult(tctx(t), "rjob", "T1", []byte("r1")))
	must(t, b.PublishResult(tctx(t), "rjob", "T2", big))
	must(t, b.PublishResult(tctx(t), "rjob", "END", nil))

	var mu sync.Mutex
	calls := map[string][]uint64{}
	end := make(chan struct{})
	runResults(t, b, func(r ResultMsg) error {
		mu.Lock()
		defer mu.Unlock()
		calls[r.TaskID] = append(calls[r.TaskID], r.Delivered)
		switch {
		case r.TaskID == "T1" && r.Delivered == 1:
			return errors.New("disk full")
		case r.TaskID == "T2" && !bytes.Equal(r.Data, big):
			t.Errorf("large result differs")
		case r.TaskID == "END" && len(calls["T1"]) == 2:
			close(end)
		case r.TaskID == "END":
			return errors.New("wait for T1's redelivery first")
		}
		return nil
	})
	select {
	case <-end:
	case <-tctx(t).Done():
		t.Fatal("results not all handled")
	}
	mu.Lock()
	defer mu.Unlock()
	if got := fmt.Sprint(calls["T1"], calls["T2"]); got != "[1 2] [1]" {
		t.Errorf("deliveries T1, T2 = %s, want [1 2] [1]", got)
	}
}

func TestResultsAckedAreNotRedelivered(t *testing.T) {
	_, b := newBus(t, SetupOptions{})
	for i := range 5 {
		must(t, b.PublishResult(tctx(t), "ajob", fmt.Sprint("T", i), nil))
	}
	got := make(chan string, 100)
	ctx, cancel := context.WithCancel(tctx(t))
	handle := func(r ResultMsg) error { got <- r.TaskID; return nil }
	done := make(chan error, 1)
	go func() { done <- b.Results(ctx, handle) }()
	for range 5 {
		<-got
	}
	cancel()
	must(t, <-done)

	// A second run (the tracker restarted) sees only new results.
	must(t, b.PublishResult(tctx(t), "ajob", "NEW", nil))
	runResults(t, b, handle)
	if id := <-got; id != "NEW" {
		t.Fatalf("restarted tracker got %s, want NEW", id)
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
	if n, err := b.Pending(tctx(t), "pjob"); err != nil || n != 3 {
		t.Fatalf("pending after restart %d, %v; want 3", n, err)
	}
	if spec, err := b.Jobs().Get(tctx(t), "pjob"); err != nil || string(spec) != "spec" {
		t.Fatalf("job after restart %q, %v", spec, err)
	}
	if m := next(t, b, "w"); string(mustData(t, m)) != "task" {
		t.Fatalf("task after restart: %s", m.TaskID)
	}
	got := make(chan ResultMsg, 1)
	runResults(t, b, func(r ResultMsg) error { got <- r; return nil })
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	opts.Port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	srv := startServer(t, opts)
	b := connect(t, srv, SetupOptions{})
	got := make(chan ResultMsg, 10)
	runResults(t, b, func(r ResultMsg) error { got <- r; return nil })
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
