package testenv

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// ScaleEnv names the environment variable that stretches every Wait's
// deadline by a factor (for example 3 beside a CPU hog): on a loaded
// machine a condition comes later, not never. Values below 1, or not
// numbers, leave the deadlines as written.
const ScaleEnv = "OSSIMPORT_TEST_TIMEOUT_SCALE"

// Scale stretches a test deadline by the factor in ScaleEnv.
func Scale(d time.Duration) time.Duration {
	f, err := strconv.ParseFloat(os.Getenv(ScaleEnv), 64)
	if err != nil || f <= 1 {
		return d
	}
	return time.Duration(float64(d) * f)
}

// WaitPoll is how often Wait looks at its condition.
const WaitPoll = 20 * time.Millisecond

// Wait polls cond until it holds, failing the test with what (and the
// output of detail, when given) once timeout has passed. Tests wait on
// conditions with it, never on fixed sleeps; timeouts are generous so a
// loaded machine only makes them slower, and ScaleEnv stretches them.
func Wait(t testing.TB, timeout time.Duration, what string, cond func() bool, detail ...func() string) {
	t.Helper()
	WaitEvery(t, timeout, WaitPoll, what, cond, detail...)
}

// WaitEvery is Wait looking at its condition every poll: for conditions
// that cost a command or a page evaluation to check.
func WaitEvery(t testing.TB, timeout, poll time.Duration, what string, cond func() bool, detail ...func() string) {
	t.Helper()
	timeout = Scale(timeout)
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			msg := ""
			for _, d := range detail {
				msg += "\n" + d()
			}
			t.Fatalf("timed out after %s waiting for %s%s", timeout, what, msg)
		}
		time.Sleep(poll)
	}
}
