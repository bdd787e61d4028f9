package bus

import (
	"context"
	"time"
)

// ridePatience bounds how long a publish waits out a NATS cluster
// electing the leader of its stream (a node lost): the election takes
// seconds, after which the publish goes through.
const ridePatience = DefaultPatience

// ride runs a publish (or a key-value read or idempotent write) again while it fails with a Transient error (such
// as "no response from stream" while a stream elects a leader), for up
// to ridePatience or until ctx ends. Publishing again is safe: tasks are
// deduplicated by their message ID, and results are filed idempotently
// by task ID (see the package doc).
func (b *Bus) ride(ctx context.Context, f func(ctx context.Context) error) error {
	return Retry{Patience: ridePatience}.do(ctx, "publish", Transient, func() error {
		// Each attempt has its own deadline: a publish sent during the
		// election gets no answer at all.
		actx, cancel := context.WithTimeout(ctx, b.timeout)
		defer cancel()
		return f(actx)
	})
}

// pollTimeout bounds one request of an idle worker's poll for tasks.
const pollTimeout = 3 * time.Second
