package testenv

import (
	"testing"
	"time"
)

// WaitPoll is how often Wait looks at its condition.
const WaitPoll = 20 * time.Millisecond

// Wait polls cond until it holds, failing the test with what (and the
// output of detail, when given) once timeout has passed. Tests wait on
// conditions with it, never on fixed sleeps; timeouts are generous so a
// loaded machine only makes them slower.
func Wait(t testing.TB, timeout time.Duration, what string, cond func() bool, detail ...func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			msg := ""
			for _, d := range detail {
				msg += "\n" + d()
			}
			t.Fatalf("timed out after %s waiting for %s%s", timeout, what, msg)
		}
		time.Sleep(WaitPoll)
	}
}
