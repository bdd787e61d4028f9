package bus

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// DefaultPatience is how long the service and the workers keep trying
// Connect and Setup while a NATS cluster is unreachable or elects its
// stream leaders (Retry.Patience; the console sets it, the bus defaults
// to failing at once).
const DefaultPatience = 60 * time.Second

// Retry says how long Connect and Setup wait out a NATS cluster that is
// restarting or electing leaders after a node loss, and whom to tell.
// The zero value fails at the first error.
type Retry struct {
	// Patience bounds the time spent retrying, waits included; 0 or
	// negative means no retry.
	Patience time.Duration
	// OnWait, when set, is called before each wait with what failed;
	// the bus never logs itself, the service does it here.
	OnWait func(Wait)
}

// Wait describes one wait of a retried Connect or Setup.
type Wait struct {
	// Op is what is retried ("connect to NATS", "set up JetStream").
	Op string
	// Attempt is the attempt that failed, from 1.
	Attempt int
	// Err is its error.
	Err error
	// Next is the wait before the next attempt.
	Next time.Duration
	// Left is the patience left after this wait.
	Left time.Duration
}

// String says what the caller waits for, for a log line.
func (w Wait) String() string {
	return fmt.Sprintf("%s: attempt %d failed (%v); NATS may be electing leaders after a node loss, trying again in %s (giving up in %s)",
		w.Op, w.Attempt, w.Err, w.Next.Round(time.Millisecond), w.Left.Round(time.Second))
}

// Backoff bounds of Retry.
const (
	retryFirst = 250 * time.Millisecond
	retryMax   = 5 * time.Second
)

// do runs f until it succeeds, fails with an error transient does not
// accept, ctx ends, or Patience is spent; the last error is returned.
func (r Retry) do(ctx context.Context, op string, transient func(error) bool, f func() error) error {
	start := time.Now()
	delay := retryFirst
	for attempt := 1; ; attempt++ {
		err := f()
		if err == nil || r.Patience <= 0 || !transient(err) || ctx.Err() != nil {
			return err
		}
		left := r.Patience - time.Since(start)
		wait := delay/2 + rand.N(delay/2+1)
		if left <= wait {
			return fmt.Errorf("%w (gave up after %s)", err, time.Since(start).Round(time.Second))
		}
		if r.OnWait != nil {
			r.OnWait(Wait{Op: op, Attempt: attempt, Err: err, Next: wait, Left: left - wait})
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		delay = min(2*delay, retryMax)
	}
}

// JetStream API error codes that a cluster answers while it (re)elects
// leaders or re-learns its peers (nats-server's jetstream_errors).
const (
	codeClusterNotActive = 10006 // JetStream not in clustered mode (yet)
	codeClusterNotAvail  = 10008 // JetStream system temporarily unavailable
	codeClusterNotLeader = 10009 // JetStream cluster can not handle request
	codeNoPeers          = 10005 // no suitable peers for placement
)

// Transient reports whether err is what a JetStream cluster answers while
// it elects a stream or meta leader, or while a node restarts: no
// responders, a request timing out, "JetStream system temporarily
// unavailable", "no suitable peers for placement" (a restarted cluster
// that has not yet re-learnt its peers). Setup retries on these.
func Transient(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrPlacement) {
		return true
	}
	if apiErr := apiError(err); apiErr != nil {
		switch apiErr.ErrorCode {
		case codeClusterNotAvail, codeClusterNotLeader, codeNoPeers, codeClusterNotActive:
			return true
		}
		// Other 503s ("insufficient resources" while a node is down)
		// pass when the node is back; JetStream not enabled does not.
		return apiErr.Code == 503 && apiErr.ErrorCode != jetstream.JSErrCodeJetStreamNotEnabled
	}
	return errors.Is(err, nats.ErrNoResponders) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrConnectionReconnecting) || errors.Is(err, jetstream.ErrNoStreamResponse)
}

// apiError is the JetStream API error in err's chain, or nil.
func apiError(err error) *jetstream.APIError {
	var jsErr jetstream.JetStreamError
	if errors.As(err, &jsErr) {
		return jsErr.APIError()
	}
	return nil
}
