package master

import (
	"context"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/testenv"
)

// TestNudgeWaitsMinLookUnlessPokedNow: a poke soon after the last look
// waits out minLook (here an hour, so it never returns on its own), and
// pokeNow looks at once, also after a plain poke (before the wait reads
// it or while the wait sits in minLook).
func TestNudgeWaitsMinLookUnlessPokedNow(t *testing.T) {
	never := make(chan time.Time) // the Poll ticker, far off
	cases := []struct {
		name  string
		pokes func(n *nudge)
		want  bool // wait's answer: true = looks, false = ctx ended first
	}{
		{"a poke waits for minLook", func(n *nudge) { n.poke() }, false},
		{"pokeNow looks at once", func(n *nudge) { n.pokeNow() }, true},
		{"pokeNow after a poke looks at once", func(n *nudge) { n.poke(); n.pokeNow() }, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := newNudge()
			n.minLook = time.Hour
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan bool, 1)
			go func() { done <- n.wait(ctx, never, time.Now()) }()
			c.pokes(n)
			if !c.want {
				// Once the wait has taken the poke, only the context
				// can end it: a wait that looked on the poke has
				// returned true by the time it is cancelled.
				testenv.Wait(t, 10*time.Second, "the wait to take the poke", func() bool { return len(n.c) == 0 })
				cancel()
			}
			if got := <-done; got != c.want {
				t.Fatalf("wait = %v, want %v", got, c.want)
			}
		})
	}
}
