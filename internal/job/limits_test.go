package job

import (
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/transfer"
)

func TestLimitsShareOneLimiter(t *testing.T) {
	s := config.DefaultSys()
	s.WorkerMaxThroughputKB, s.WorkerMaxRequestRate = 64, 20
	l := NewLimits(s)
	if l.Bytes == nil || l.Bytes.Limit() != 64<<10 || l.Requests == nil || l.Requests.Limit() != 20 {
		t.Fatalf("limits %+v", l)
	}
	var a, b transfer.Options
	l.Apply(&a)
	l.Apply(&b)
	if a.Bandwidth != b.Bandwidth || a.Bandwidth != transfer.Limiter(l.Bytes) || a.Requests != b.Requests {
		t.Fatal("two copiers of one worker do not share its limiters")
	}
	// Whatever the number of copiers drawing on it, the limiter admits
	// at most its burst plus the rate times the elapsed time.
	start := time.Now()
	admitted := 0
	for i := range 4000 {
		at := start.Add(time.Duration(i) * time.Millisecond) // 4 s, in 1 ms steps
		for range 2 {                                        // two jobs asking at once
			if l.Bytes.AllowN(at, 1024) {
				admitted += 1024
			}
		}
	}
	if limit := l.Bytes.Burst() + 4*64<<10; admitted > limit {
		t.Fatalf("admitted %d bytes in 4 s at 64 KiB/s (burst %d), more than %d", admitted, l.Bytes.Burst(), limit)
	}

	none := NewLimits(config.DefaultSys())
	var o transfer.Options
	none.Apply(&o)
	if none.Bytes != nil || none.Requests != nil || o.Bandwidth != nil || o.Requests != nil {
		t.Fatalf("uncapped worker has limiters: %+v %+v", none, o)
	}
}

func TestBurstIsAtMostOneSecond(t *testing.T) {
	for _, tt := range []struct{ rate, burst int64 }{
		{1, 1}, {1024, 1024}, {64 << 10, 32 << 10}, {1 << 20, 256 << 10}, {1 << 30, 4 << 20},
	} {
		l := rate.NewLimiter(rate.Inf, 1)
		setRate(l, tt.rate)
		if int64(l.Burst()) != tt.burst || float64(l.Limit()) != float64(tt.rate) {
			t.Errorf("rate %d: limit %v burst %d, want burst %d", tt.rate, l.Limit(), l.Burst(), tt.burst)
		}
	}
}

func TestLimitsFollowTheSchedule(t *testing.T) {
	s := config.DefaultSys()
	var err error
	if s.WorkerMaxThroughputSchedule, err = config.ParseSchedule("08:00,10M 18:00,off"); err != nil {
		t.Fatal(err)
	}
	l := NewLimits(s)
	day := time.Date(2026, 3, 2, 9, 30, 0, 0, time.Local)
	if l.Bytes == nil || l.RateAt(day) != 10<<20 || l.RateAt(day.Add(10*time.Hour)) != 0 {
		t.Fatalf("rates %d, %d", l.RateAt(day), l.RateAt(day.Add(10*time.Hour)))
	}
}
