package worker

import "testing"

// follow runs c for windows windows against rate, failing the test if
// the limit leaves [c.floor, c.max], and returns the limits it chose.
func follow(t *testing.T, c *climb, windows int, rate func(limit int) float64) []int {
	t.Helper()
	limit, seen := c.limit, make([]int, 0, windows)
	for range windows {
		limit = c.next(rate(limit), true)
		seen = append(seen, limit)
		if limit < c.floor || limit > c.max {
			t.Fatalf("limit %d outside [%d, %d]: %v", limit, c.floor, c.max, seen)
		}
	}
	return seen
}

// mostOf returns the limit seen most often in seen, and how often.
func mostOf(seen []int) (at, n int) {
	count := map[int]int{}
	for _, l := range seen {
		count[l]++
	}
	for l, k := range count {
		if k > n || (k == n && l < at) {
			at, n = l, k
		}
	}
	return at, n
}

// TestClimbFindsTheKnee follows the adaptation window by window against
// servers whose throughput is a known function of the copies in flight:
// it settles where more copies stop paying, never below
// workerTaskThreadNum nor above four times it.
func TestClimbFindsTheKnee(t *testing.T) {
	for _, tc := range []struct {
		name     string
		threads  int
		rate     func(limit int) float64
		min, max int // where the limit must settle
	}{
		// A distant store: each copy waits on latency, so throughput
		// grows with copies until the link is full at 50.
		{"grows to the knee", 20, func(l int) float64 { return float64(min(l, 50)) * 10 }, 50, 80},
		// A loaded machine: past 10 copies they slow each other down.
		{"stays at workerTaskThreadNum under contention", 10, func(l int) float64 {
			if l <= 10 {
				return float64(l) * 10
			}
			return 100 - float64(l-10)*2
		}, 10, 10},
		// Every added copy pays: it climbs to its bound.
		{"stops at four times workerTaskThreadNum", 10, func(l int) float64 { return float64(l) * 10 }, 40, 40},
		{"stops at 1000", 600, func(l int) float64 { return float64(l) * 10 }, 1000, 1000},
		// Throughput flat whatever the copies (a near server at its
		// limit, a bandwidth cap): it stays at workerTaskThreadNum.
		{"flat throughput keeps workerTaskThreadNum", 60, func(int) float64 { return 50 }, 60, 60},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClimb(tc.threads)
			if c.limit != tc.threads {
				t.Fatalf("starts at %d copies at once, want workerTaskThreadNum=%d", c.limit, tc.threads)
			}
			seen := follow(t, c, 300, tc.rate)
			at, n := mostOf(seen[100:])
			if at < tc.min || at > tc.max || n < 180 {
				t.Fatalf("settled at %d for %d of the last 200 windows, want %d to %d for most of them: %v", at, n, tc.min, tc.max, seen)
			}
		})
	}
}

// TestClimbProbesLessWhileProbesFail: against a server that more copies
// do not speed up, failed probes double the hold after them, so the
// worker spends almost every window at workerTaskThreadNum.
func TestClimbProbesLessWhileProbesFail(t *testing.T) {
	c := newClimb(60)
	seen := follow(t, c, 1000, func(int) float64 { return 50 })
	away := 0
	for _, l := range seen[200:] {
		if l != 60 {
			away++
		}
	}
	if away > 800/tuneHoldMax+1 {
		t.Fatalf("%d of 800 windows away from workerTaskThreadNum, want at most %d: %v", away, 800/tuneHoldMax+1, seen[200:])
	}
}

// TestClimbComesBackDown: a limit raised while the destination was far
// comes back to workerTaskThreadNum once more copies no longer pay.
func TestClimbComesBackDown(t *testing.T) {
	c := newClimb(20)
	far := follow(t, c, 100, func(l int) float64 { return float64(l) * 10 })
	if at, _ := mostOf(far[50:]); at != 80 {
		t.Fatalf("against a far destination settled at %d, want 80: %v", at, far)
	}
	near := follow(t, c, 300, func(int) float64 { return 400 })
	if at, n := mostOf(near[200:]); at != 20 || n < 90 {
		t.Fatalf("once near, settled at %d for %d of 100 windows, want 20: %v", at, n, near)
	}
}

// TestClimbHoldsWhileTheWorkSetsThePace: windows in which no copy
// queued for a slot move nothing, and drop the move being judged.
func TestClimbHoldsWhileTheWorkSetsThePace(t *testing.T) {
	c := newClimb(60)
	up := c.next(100, true) // probes up
	if up <= 60 {
		t.Fatalf("first probe to %d, want above 60", up)
	}
	for i := range 5 {
		if l := c.next(10, false); l != up {
			t.Fatalf("window %d: limit moved to %d in a window without queueing", i, l)
		}
	}
	// The drop in throughput came from less work: the step up is no
	// longer judged by it.
	if c.prev != 0 {
		t.Fatalf("the step up from %d is still judged after windows without queueing", c.prev)
	}
}
