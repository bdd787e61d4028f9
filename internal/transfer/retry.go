package transfer

import (
	"context"
	"math/rand/v2"
	"time"
)

// DefaultRetryBudget is how long, by default, transient failures of one
// object are retried (workerRetryBudget).
const DefaultRetryBudget = 2 * time.Minute

// retrier paces the retries of one object: exponential backoff with full
// jitter (each wait is random between zero and base·2ⁿ, capped at max),
// until the budget has passed since the object's first transient failure
// or the optional attempt cap is reached. The last wait is cut so that
// the final attempt starts before the budget ends.
type retrier struct {
	base, max, budget time.Duration
	attempts          int // 0: bounded by the budget alone
	now               func() time.Time
	deadline          time.Time // set at the first failure
}

func (c *Copier) retrier() *retrier {
	return &retrier{base: c.opts.RetryBase, max: c.opts.RetryMax, budget: c.opts.RetryBudget, attempts: c.opts.Attempts, now: time.Now}
}

// wait returns how long to wait before attempt+1 after attempt failed
// transiently, and false when the object must not be tried again.
func (r *retrier) wait(attempt int) (time.Duration, bool) {
	now := r.now()
	if r.deadline.IsZero() {
		r.deadline = now.Add(r.budget)
	}
	left := r.deadline.Sub(now)
	if left <= 0 || (r.attempts > 0 && attempt >= r.attempts) {
		return 0, false
	}
	ceil := r.max
	if shift := attempt - 1; shift < 62 {
		if d := r.base << shift; d > 0 && d < ceil {
			ceil = d
		}
	}
	return min(rand.N(ceil+1), left), true
}

// retryWait sleeps before attempt+1 of obj, reporting the retry; false
// when the budget is spent or ctx ended (at once, not after the wait).
func (c *Copier) retryWait(ctx context.Context, r *retrier, obj Object, attempt int, res Result) bool {
	d, ok := r.wait(attempt)
	if !ok || ctx.Err() != nil {
		return false
	}
	if c.opts.OnRetry != nil {
		c.opts.OnRetry(obj, attempt, res.Err, d)
	}
	return Sleep(ctx, d) == nil
}
