package worker

import "time"

// SetRefuseDelay sets how long a refused task waits before its next
// delivery, for the test's duration.
func SetRefuseDelay(t interface{ Cleanup(func()) }, d time.Duration) {
	old := refuseDelay
	refuseDelay = d
	t.Cleanup(func() { refuseDelay = old })
}
