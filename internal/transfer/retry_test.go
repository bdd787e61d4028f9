package transfer

import (
	"context"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/storage/memory"
	"github.com/ossimport/ossimport/internal/testenv"
)

// TestRetryBudgetOutlastsManyFailures: an object whose writes fail
// transiently many times in a row (an outage) is retried until it gets
// through, far beyond the old four attempts, while the budget lasts.
func TestRetryBudgetOutlastsManyFailures(t *testing.T) {
	src := memory.New("src")
	dst := &flakyDest{Store: memory.New("dst")}
	dst.failures.Store(40)
	obj := seed(t, src, "k", randomBytes(3000, 9), time.Unix(1, 0))
	opts := testOptions()
	opts.RetryMax = 2 * time.Millisecond
	opts.RetryBudget = time.Minute
	var retries int
	opts.OnRetry = func(o Object, attempt int, err error, wait time.Duration) {
		retries++
		if o.Key != "k" || attempt != retries || err == nil || wait < 0 || wait > opts.RetryMax {
			t.Errorf("OnRetry(%q, %d, %v, %s)", o.Key, attempt, err, wait)
		}
	}
	res := newCopier(t, dst, src, opts).Copy(t.Context(), obj)
	if res.Code != Succeed || res.Attempts != 41 || retries != 40 {
		t.Fatalf("got %s after %d attempts and %d retries (%s), want Succeed after 41", res.Code, res.Attempts, retries, res.Detail)
	}
}

// TestRetryBudgetEnds: a failure that never clears is given up once the
// budget has passed since the first failure, not before and not long
// after.
func TestRetryBudgetEnds(t *testing.T) {
	src := memory.New("src")
	dst := &flakyDest{Store: memory.New("dst")}
	dst.failures.Store(1 << 30)
	obj := seed(t, src, "k", []byte("payload"), time.Unix(1, 0))
	opts := testOptions()
	opts.RetryMax = 5 * time.Millisecond
	opts.RetryBudget = 200 * time.Millisecond
	start := time.Now()
	res := newCopier(t, dst, src, opts).Copy(t.Context(), obj)
	took := time.Since(start)
	if res.Code != UploadFailed || res.Attempts < 5 {
		t.Fatalf("got %s after %d attempts, want UploadFailed after several", res.Code, res.Attempts)
	}
	if took < opts.RetryBudget || took > opts.RetryBudget+10*time.Second {
		t.Fatalf("gave up after %s with a budget of %s", took, opts.RetryBudget)
	}
}

// TestRetryWaitEndsWithContext: a cancelled context ends a retry wait at
// once, however long the backoff.
func TestRetryWaitEndsWithContext(t *testing.T) {
	src := memory.New("src")
	dst := &flakyDest{Store: memory.New("dst")}
	dst.failures.Store(1 << 30)
	obj := seed(t, src, "k", []byte("payload"), time.Unix(1, 0))
	opts := testOptions()
	opts.RetryBase, opts.RetryMax, opts.RetryBudget = time.Hour, time.Hour, time.Hour
	ctx, cancel := context.WithCancel(t.Context())
	waiting := make(chan struct{})
	opts.OnRetry = func(Object, int, error, time.Duration) { close(waiting) }
	done := make(chan Result)
	go func() { done <- newCopier(t, dst, src, opts).Copy(ctx, obj) }()
	<-waiting
	cancel()
	select {
	case res := <-done:
		if res.Code.OK() || res.Attempts != 1 {
			t.Fatalf("got %s after %d attempts", res.Code, res.Attempts)
		}
	case <-time.After(testenv.Scale(10 * time.Second)):
		t.Fatal("the retry wait did not end with its context")
	}
}

// TestRetrierWaits: waits grow exponentially up to the cap, are random
// below it, and the last one ends with the budget.
func TestRetrierWaits(t *testing.T) {
	now := time.Unix(1000, 0)
	r := &retrier{base: 100 * time.Millisecond, max: 2 * time.Second, budget: 10 * time.Second, now: func() time.Time { return now }}
	for attempt := 1; attempt <= 12; attempt++ {
		d, ok := r.wait(attempt)
		ceil := min(r.base<<(attempt-1), r.max)
		if !ok || d < 0 || d > ceil {
			t.Fatalf("attempt %d: wait %s (ok %v), want 0..%s", attempt, d, ok, ceil)
		}
	}
	now = now.Add(9900 * time.Millisecond)
	if d, ok := r.wait(13); !ok || d > 100*time.Millisecond {
		t.Fatalf("near the end of the budget: wait %s (ok %v), want at most the 100ms left", d, ok)
	}
	now = now.Add(100 * time.Millisecond)
	if _, ok := r.wait(14); ok {
		t.Fatal("retried after the budget")
	}
	capped := &retrier{base: time.Millisecond, max: time.Second, budget: time.Hour, attempts: 3, now: time.Now}
	if _, ok := capped.wait(3); ok {
		t.Fatal("retried past the Attempts cap")
	}
	if _, ok := (&retrier{base: time.Millisecond, max: time.Second, budget: time.Hour, now: time.Now}).wait(200); !ok {
		t.Fatal("a huge attempt number must not overflow the backoff")
	}
}
