package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// LeaderBucket holds the master lease: one key whose holder is the
// active master. The bucket's TTL expires a lease its holder stopped
// renewing.
const LeaderBucket = "OSSIMPORT_LEADER"

const leaderKey = "master"

// DefaultLeaseTTL is how long a master lease lives without a renewal:
// a standby takes over this long (plus one poll) after the leader's
// last renewal.
const DefaultLeaseTTL = 10 * time.Second

// Leader is the holder of the master lease.
type Leader struct {
	// Name identifies the service (its worker name, a host name).
	Name string `json:"name"`
	// Since is when it took the lease.
	Since time.Time `json:"since"`
	// Renewed is its last renewal.
	Renewed time.Time `json:"renewed"`
}

// CurrentLeader returns the lease's holder; ok is false when nobody holds
// it (no master runs, or the last one stopped renewing a TTL ago).
func (b *Bus) CurrentLeader(ctx context.Context) (l Leader, ok bool, err error) {
	st, err := b.state()
	if err != nil {
		return l, false, err
	}
	e, err := st.leader.Get(ctx, leaderKey)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return l, false, nil
	}
	if err != nil {
		return l, false, fmt.Errorf("bus: read the master lease: %w", err)
	}
	if err := json.Unmarshal(e.Value(), &l); err != nil {
		return l, false, fmt.Errorf("bus: read the master lease: %w", err)
	}
	return l, true, nil
}

// LeadOptions say who campaigns for the master lease.
type LeadOptions struct {
	// Name identifies this process in the lease.
	Name string
	// Predecessor, when set, is the name of a process known to be dead
	// (this service's predecessor on its working directory, killed): a
	// lease it still holds is taken over at once instead of after the
	// TTL.
	Predecessor string
	// Observe, when set, is told the holder after each look at the lease
	// (ok false: nobody holds it).
	Observe func(l Leader, ok bool)
}

// Lead campaigns for the master lease until ctx ends. While this process
// holds it, lead runs with a context that ends when the lease is lost (a
// renewal refused, or none confirmed for most of a TTL: another process
// may hold it by then); Lead then campaigns again. On return it releases
// a lease it holds, so a standby takes over at once.
func (b *Bus) Lead(ctx context.Context, o LeadOptions, lead func(context.Context) error) error {
	st, err := b.state()
	if err != nil {
		return err
	}
	ttl := st.opts.LeaseTTL
	tick := time.NewTicker(max(ttl/5, 50*time.Millisecond))
	defer tick.Stop()
	observe := o.Observe
	for {
		me := Leader{Name: o.Name, Since: time.Now(), Renewed: time.Now()}
		rev, err := st.leader.Create(ctx, leaderKey, mustJSON(me))
		if err != nil && o.Predecessor != "" {
			rev, err = b.takeFrom(ctx, st, o.Predecessor, me)
		}
		if err == nil {
			if observe != nil {
				observe(me, true)
			}
			if err := b.holdLease(ctx, st, me, rev, tick.C, lead, observe); err != nil {
				return err
			}
		} else if observe != nil {
			l, ok, _ := b.CurrentLeader(ctx)
			observe(l, ok)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// takeFrom takes the lease over from a dead predecessor that holds it.
func (b *Bus) takeFrom(ctx context.Context, st *state, predecessor string, me Leader) (uint64, error) {
	e, err := st.leader.Get(ctx, leaderKey)
	if err != nil {
		return 0, err
	}
	var l Leader
	if err := json.Unmarshal(e.Value(), &l); err != nil || l.Name != predecessor {
		return 0, jetstream.ErrKeyExists
	}
	return st.leader.Update(ctx, leaderKey, mustJSON(me), e.Revision())
}

// holdLease runs lead while renewing the lease at revision rev, and
// releases it when ctx ends.
func (b *Bus) holdLease(ctx context.Context, st *state, me Leader, rev uint64, tick <-chan time.Time,
	lead func(context.Context) error, observe func(Leader, bool)) error {
	ttl := st.opts.LeaseTTL
	lctx, lose := context.WithCancel(ctx)
	defer lose()
	done := make(chan error, 1)
	go func() { done <- lead(lctx) }()
	confirmed := time.Now()
	for {
		select {
		case err := <-done:
			b.release(st, rev)
			if ctx.Err() != nil {
				return nil
			}
			return err
		case <-tick:
		}
		if ctx.Err() != nil {
			continue // lead is ending
		}
		me.Renewed = time.Now()
		rctx, cancel := context.WithTimeout(ctx, ttl/3)
		next, err := st.leader.Update(rctx, leaderKey, mustJSON(me), rev)
		cancel()
		switch {
		case err == nil:
			rev, confirmed = next, me.Renewed
			if observe != nil {
				observe(me, true)
			}
		case errors.Is(err, jetstream.ErrKeyExists) || time.Since(confirmed) > ttl*2/3:
			// Taken over, or unconfirmed for too long: stop leading
			// before another process can have taken the lease.
			lose()
			<-done //nolint:errcheck // the lease is lost: how the lead ended no longer matters
			return nil
		}
	}
}

// release deletes the lease if it is still at revision rev.
func (b *Bus) release(st *state, rev uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
	defer cancel()
	_ = st.leader.Delete(ctx, leaderKey, jetstream.LastRevision(rev))
}

func mustJSON(v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err) // plain structs only
	}
	return data
}
