package console

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/testenv"
)

// TestWaitJobEndWakesOnTheMastersWord: run's wait for its job's end
// looks again as soon as the master says a job ended, not at its next
// poll (an hour here): it returns true once the job is over, and false
// when its context ends first.
func TestWaitJobEndWakesOnTheMastersWord(t *testing.T) {
	tests := []struct {
		name string
		end  bool // the job ends (else the context is cancelled)
	}{
		{"the job ends", true},
		{"the run is interrupted", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var over atomic.Bool
			looked := make(chan struct{}, 8)
			ended := func() bool {
				v := over.Load()
				looked <- struct{}{}
				return v
			}
			seen := make(chan struct{})
			endSeen := func() <-chan struct{} { return seen }
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			got := make(chan bool, 1)
			go func() { got <- waitJobEnd(ctx, ended, endSeen, time.Hour) }()
			<-looked // its first look found the job running
			if tc.end {
				over.Store(true)
				close(seen)
			} else {
				cancel()
			}
			var returned bool
			testenv.Wait(t, 10*time.Second, "waitJobEnd to return", func() bool {
				select {
				case returned = <-got:
					return true
				default:
					return false
				}
			})
			if returned != tc.end {
				t.Errorf("waitJobEnd returned %v, want %v", returned, tc.end)
			}
		})
	}
}
