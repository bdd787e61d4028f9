package transfer

import (
	"context"
	"sync"
)

// Slots bound the objects copied at once by a worker, across all its
// running tasks (workerTaskThreadNum).
type Slots chan struct{}

// NewSlots returns n slots.
func NewSlots(n int) Slots { return make(Slots, max(n, 1)) }

// RunAll copies objs (or audits them, with Options.Audit), each in one
// of slots, calling onResult (serially) for each result as it comes. It
// returns when every object has a result or ctx is done; objects not
// started when ctx ends get no result.
//
// The goroutines that copy are reused from object to object: a copy
// goes deep through the SDK's middleware, and a fresh goroutine per
// object grew (copied) its stack several times for each one.
func (c *Copier) RunAll(ctx context.Context, slots Slots, objs []Object, onResult func(Result)) {
	do := c.Copy
	if c.opts.Audit != "" {
		do = c.auditOrSkip
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	work := make(chan Object) // to an idle copier goroutine
	copyOne := func(obj Object) {
		res := do(ctx, obj)
		// The slot is given back after onResult: with one slot, the next
		// object starts only once this one's result is handled, so an
		// abort it causes (workerAbortWhenUncatchedException) stops
		// the task before another object is copied.
		defer func() { <-slots }()
		if ctx.Err() != nil && !res.Code.OK() {
			return // interrupted, not failed: no result
		}
		mu.Lock()
		onResult(res)
		mu.Unlock()
	}
	for _, obj := range objs {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			close(work)
			wg.Wait()
			return
		}
		select {
		case work <- obj:
			continue
		default:
		}
		wg.Go(func() {
			copyOne(obj)
			for obj := range work {
				copyOne(obj)
			}
		})
	}
	close(work)
	wg.Wait()
}

// auditOrSkip audits obj in the job's mode, unless it was modified after
// lastModify.
func (c *Copier) auditOrSkip(ctx context.Context, obj Object) Result {
	if before := c.opts.AuditModifiedBefore; !before.IsZero() && obj.ModTime.After(before) {
		return Result{Object: obj, Code: Skipped, Detail: "modified after lastModify, not verified"}
	}
	return c.Audit(ctx, obj, c.opts.Audit)
}
