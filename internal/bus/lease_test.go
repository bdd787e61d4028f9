package bus

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/testenv"
)

// TestLeaseOneLeaderAndTakeover: of two campaigning services one leads;
// when it stops, the other leads at once (the lease is released); when
// a leader stops renewing without releasing (a crash), the other takes
// over after the TTL.
func TestLeaseOneLeaderAndTakeover(t *testing.T) {
	const ttl = time.Second
	srv, b1 := newBus(t, SetupOptions{LeaseTTL: ttl, Update: true})
	b2 := connect(t, srv, SetupOptions{LeaseTTL: ttl})
	var leading atomic.Int32
	var aLed, bLed atomic.Bool
	campaign := func(b *Bus, name string, led *atomic.Bool) (stop func()) {
		ctx, cancel := context.WithCancel(tctx(t))
		done := make(chan error, 1)
		go func() {
			done <- b.Lead(ctx, LeadOptions{Name: name}, func(lctx context.Context) error {
				if n := leading.Add(1); n != 1 {
					t.Errorf("%d leaders at once", n)
				}
				led.Store(true)
				<-lctx.Done()
				leading.Add(-1)
				return nil
			})
		}()
		return func() { cancel(); must(t, <-done) }
	}
	stopA := campaign(b1, "a", &aLed)
	testenv.Wait(t, testTimeout, "a to lead", aLed.Load)
	stopB := campaign(b2, "b", &bLed)
	if l, ok, err := b2.CurrentLeader(tctx(t)); err != nil || !ok || l.Name != "a" {
		t.Fatalf("leader %+v %v %v, want a", l, ok, err)
	}
	start := time.Now()
	stopA()
	testenv.Wait(t, testTimeout, "b to lead after a stopped", bLed.Load)
	if d := time.Since(start); d > ttl {
		t.Errorf("b led %v after a released the lease; want a takeover before the TTL (%v)", d, ttl)
	}

	// A crash: the lease is left to expire (b's connection drops, so it
	// can neither renew nor release).
	aLed.Store(false)
	stopA = campaign(b1, "a", &aLed)
	b2.Close()
	testenv.Wait(t, testTimeout, "a to take over an expired lease", aLed.Load)
	stopB()
	stopA()
	if l, ok, err := b1.CurrentLeader(tctx(t)); err != nil || ok {
		t.Fatalf("lease after both stopped: %+v %v %v, want none", l, ok, err)
	}
}
