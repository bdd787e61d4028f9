//go:build race

package console

// The service processes the tests start are built with the race detector
// too when the tests are.
func init() { raceEnabled = true }
