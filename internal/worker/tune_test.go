package worker

import "testing"

// TestClimbFindsTheKnee follows the adaptation window by window against
// servers whose throughput is a known function of the copies in flight:
// it settles where more copies stop paying, never above
// workerTaskThreadNum nor below its starting point, and holds while the
// work offered, not the limit, sets the pace.
func TestClimbFindsTheKnee(t *testing.T) {
	for _, tc := range []struct {
		name     string
		most     int
		rate     func(limit int) float64
		min, max int // where the limit must settle
	}{
		// A remote store: each copy waits on latency, so throughput
		// grows with copies until the link is full at 20.
		{"grows to the knee", 60, func(l int) float64 { return float64(min(l, 20)) * 10 }, 20, 40},
		// A loaded machine: past 10 copies they slow each other down.
		{"stays below contention", 60, func(l int) float64 {
			if l <= 10 {
				return float64(l) * 10
			}
			return 100 - float64(l-10)*2
		}, 8, 12},
		// Every added copy pays: it climbs to the configured bound.
		{"stops at workerTaskThreadNum", 30, func(l int) float64 { return float64(l) * 10 }, 30, 30},
		// Fewer threads configured than the starting point.
		{"starts at a small workerTaskThreadNum", 4, func(l int) float64 { return float64(l) * 10 }, 4, 4},
		// Throughput flat whatever the copies (a bandwidth cap): it
		// settles at its starting point, not lower.
		{"flat throughput keeps the floor", 60, func(int) float64 { return 50 }, 8, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClimb(tc.most)
			limit := c.limit
			var seen []int
			for range 200 {
				limit = c.next(tc.rate(limit), true)
				seen = append(seen, limit)
				if limit < min(tuneStart, tc.most) || limit > tc.most {
					t.Fatalf("limit %d outside [%d, %d]: %v", limit, min(tuneStart, tc.most), tc.most, seen)
				}
			}
			// Where it spends the last windows (probes included, which
			// last one window each).
			settled := map[int]int{}
			for _, l := range seen[100:] {
				settled[l]++
			}
			best, at := 0, 0
			for l, n := range settled {
				if n > best {
					best, at = n, l
				}
			}
			if at < tc.min || at > tc.max || best < 80 {
				t.Fatalf("settled at %d for %d of the last 100 windows, want %d to %d for most of them: %v", at, best, tc.min, tc.max, seen)
			}
		})
	}
}

// TestClimbHoldsWhileTheWorkSetsThePace: windows in which no copy
// queued for a slot move nothing, and drop the move being judged.
func TestClimbHoldsWhileTheWorkSetsThePace(t *testing.T) {
	c := newClimb(60)
	up := c.next(100, true) // probes up
	if up <= tuneStart {
		t.Fatalf("first probe to %d, want above %d", up, tuneStart)
	}
	for range 5 {
		if l := c.next(10, false); l != up {
			t.Fatalf("limit moved to %d in a window without queueing", l)
		}
	}
	// The drop in throughput came from less work: the step up is no
	// longer judged by it.
	if c.prev != 0 {
		t.Fatalf("the step up from %d is still judged after windows without queueing", c.prev)
	}
}
