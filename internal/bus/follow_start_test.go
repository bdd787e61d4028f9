package bus

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ossimport/ossimport/internal/testenv"
)

// TestFollowerStartIsBounded: starting a follower's consumer while the
// server does not answer (the client retries creating it for as long as
// that lasts) gives up after followStart, so the follower can try
// again from the top instead of waiting on it.
func TestFollowerStartIsBounded(t *testing.T) {
	srv, b := newBus(t, SetupOptions{})
	st, err := b.state()
	if err != nil {
		t.Fatal(err)
	}
	saved := followStart
	followStart = 500 * time.Millisecond
	defer func() { followStart = saved }()
	srv.Shutdown()
	done := make(chan error, 1)
	go func() {
		_, err := orderedMessages(t.Context(), st.results, jetstream.OrderedConsumerConfig{})
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("start against a server that is gone: %v, want a deadline exceeded", err)
		}
	case <-time.After(testenv.Scale(30 * time.Second)):
		t.Fatal("the start of a follower's consumer did not give up")
	}
}
