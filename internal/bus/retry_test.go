package bus

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ossimport/ossimport/internal/testenv"
)

func TestTransientNamesTheElectionErrors(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{nats.ErrNoResponders, true},
		{fmt.Errorf("bus: create stream X: %w", context.DeadlineExceeded), true},
		{nats.ErrTimeout, true},
		{&jetstream.APIError{Code: 503, ErrorCode: 10008, Description: "JetStream system temporarily unavailable"}, true},
		{&jetstream.APIError{Code: 400, ErrorCode: 10005, Description: "no suitable peers for placement"}, true},
		{&jetstream.APIError{Code: 503, ErrorCode: 10023, Description: "insufficient resources"}, true},
		{jetstream.ErrJetStreamNotEnabled, false},
		{&jetstream.APIError{Code: 400, ErrorCode: 10058, Description: "stream name already in use"}, false},
		{ErrAuth, false},
		{nil, false},
	} {
		if got := Transient(c.err); got != c.want {
			t.Errorf("Transient(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

func TestRetryStopsAtPatienceAndSaysWhy(t *testing.T) {
	var waits []Wait
	calls := 0
	r := Retry{Patience: 2 * time.Second, OnWait: func(w Wait) { waits = append(waits, w) }}
	start := time.Now()
	err := r.do(t.Context(), "set up JetStream", Transient, func() error { calls++; return nats.ErrNoResponders })
	if !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("err = %v, want the last error", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("gave up after %s, patience was 2s", el)
	}
	if calls < 2 || len(waits) != calls-1 {
		t.Fatalf("%d calls, %d waits reported", calls, len(waits))
	}
	if w := waits[0]; w.Attempt != 1 || w.Op != "set up JetStream" || w.Next <= 0 || !errors.Is(w.Err, nats.ErrNoResponders) {
		t.Fatalf("first wait %+v", w)
	}
	// A permanent error is returned at once.
	calls = 0
	_ = r.do(t.Context(), "x", Transient, func() error { calls++; return ErrAuth })
	if calls != 1 {
		t.Fatalf("permanent error tried %d times", calls)
	}
}

// Connect with Retry waits for a server that is not up yet.
func TestConnectRetriesUntilTheServerIsUp(t *testing.T) {
	opts := serverOpts(t)
	opts.Port = testenv.LoopbackPort(t)
	started := make(chan *Server, 1)
	var startErr error
	first := true
	ctx, cancel := context.WithTimeout(t.Context(), testenv.Scale(30*time.Second))
	defer cancel()
	b, err := Connect(ctx, ConnOptions{
		URLs: fmt.Sprintf("nats://127.0.0.1:%d", opts.Port), Token: "placeholder", Timeout: time.Second,
		Retry: Retry{Patience: 25 * time.Second, OnWait: func(w Wait) {
			if !errors.Is(w.Err, ErrUnreachable) {
				t.Errorf("waited on %v", w.Err)
			}
			if first {
				first = false
				// The token file is created by the server: use the one the
				// connection already carries.
				if err := os.WriteFile(opts.TokenFile, []byte("placeholder\n"), 0o600); err != nil {
					startErr = err
					return
				}
				srv, err := StartServer(opts)
				startErr = err
				started <- srv
			}
		}},
	})
	if startErr != nil {
		t.Fatal(startErr)
	}
	if err != nil {
		t.Fatalf("Connect did not wait for the server: %v", err)
	}
	b.Close()
	if srv := <-started; srv != nil {
		srv.Shutdown()
	}
}
