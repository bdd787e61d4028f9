package job

import (
	"context"
	"time"

	"golang.org/x/time/rate"

	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/transfer"
)

// Limits are the throughput caps of one worker process: the byte rate
// (workerMaxThroughput(KB/s), or workerMaxThroughputSchedule by time of
// day) and the request rate (workerMaxRequestRate). They are
// sys.properties settings of the worker, so every job and task the
// process runs shares the same limiters: two jobs together move at the
// cap, not twice it.
type Limits struct {
	// Bytes throttles bytes read from sources; nil when uncapped.
	Bytes *rate.Limiter
	// Requests throttles requests to both stores; nil when uncapped.
	Requests *rate.Limiter

	fixed    int64
	schedule config.Schedule
}

// NewLimits builds the limiters of a worker from its settings. Call Run
// to follow a schedule.
func NewLimits(s *config.Sys) *Limits {
	return LimitsOf(s.MaxThroughput(), s.WorkerMaxThroughputSchedule, float64(s.WorkerMaxRequestRate))
}

// RateAt is the byte rate cap in force at t: the schedule's entry, else
// the fixed workerMaxThroughput; 0 means unlimited.
func (l *Limits) RateAt(t time.Time) int64 { return rateAt(l.schedule, l.fixed, t) }

// Run keeps the byte limiter at the rate the schedule sets for the
// current time until ctx ends, so a schedule takes effect without a
// restart. It returns at once when there is no schedule.
func (l *Limits) Run(ctx context.Context) {
	if l.Bytes == nil || len(l.schedule) == 0 {
		return
	}
	throttle(ctx, l.Bytes, l.RateAt)
}

// Apply makes the copier options o use the limiters.
func (l *Limits) Apply(o *transfer.Options) {
	if l.Bytes != nil {
		o.Bandwidth = l.Bytes
	}
	if l.Requests != nil {
		o.Requests = l.Requests
	}
}

// newLimiters builds the byte and request limiters (nil when uncapped).
func newLimiters(fixed int64, schedule config.Schedule, requestsPerSecond float64) (bytes, requests *rate.Limiter) {
	if fixed > 0 || len(schedule) > 0 {
		bytes = rate.NewLimiter(rate.Inf, 1<<20)
		setRate(bytes, rateAt(schedule, fixed, time.Now()))
	}
	if requestsPerSecond > 0 {
		requests = rate.NewLimiter(rate.Limit(requestsPerSecond), max(1, int(requestsPerSecond)))
	}
	return bytes, requests
}

// rateAt is the schedule's rate at t, else fixed; 0 means unlimited.
func rateAt(schedule config.Schedule, fixed int64, t time.Time) int64 {
	if r, ok := schedule.RateAt(t); ok {
		return r
	}
	return fixed
}

// throttle sets l to rateAt(now) at every minute until ctx ends.
func throttle(ctx context.Context, l *rate.Limiter, rateAt func(time.Time) int64) {
	for {
		setRate(l, rateAt(time.Now()))
		next := time.Now().Truncate(time.Minute).Add(time.Minute)
		if transfer.Sleep(ctx, time.Until(next)) != nil {
			return
		}
	}
}

// setRate sets l to n bytes per second, 0 meaning unlimited. The burst
// (what an idle limiter lets through at once, and the largest single
// read) is a quarter second of the rate, at least 32 KiB but never more
// than one second's worth, and at most 4 MiB.
func setRate(l *rate.Limiter, n int64) {
	if n <= 0 {
		l.SetLimit(rate.Inf)
		return
	}
	l.SetLimit(rate.Limit(n))
	l.SetBurst(int(max(min(max(n/4, 32<<10), n, 4<<20), 1)))
}
