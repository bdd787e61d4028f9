//go:build race

package osstest_test

const raceEnabled = true
