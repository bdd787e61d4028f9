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

// RunAll copies objs, each in one of slots, calling onResult (serially)
// for each result as it comes. It returns when every object has a result
// or ctx is done; objects not started when ctx ends get no result.
func (c *Copier) RunAll(ctx context.Context, slots Slots, objs []Object, onResult func(Result)) {
	c.each(ctx, slots, objs, c.Copy, onResult)
}

// AuditAll is RunAll for verification only (jobType=audit).
func (c *Copier) AuditAll(ctx context.Context, slots Slots, objs []Object, mode AuditMode, onResult func(Result)) {
	c.each(ctx, slots, objs, func(ctx context.Context, o Object) Result { return c.Audit(ctx, o, mode) }, onResult)
}

func (c *Copier) each(ctx context.Context, slots Slots, objs []Object, do func(context.Context, Object) Result, onResult func(Result)) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, obj := range objs {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return
		}
		wg.Go(func() {
			defer func() { <-slots }()
			res := do(ctx, obj)
			if ctx.Err() != nil && !res.Code.OK() {
				return // interrupted, not failed: no result
			}
			mu.Lock()
			onResult(res)
			mu.Unlock()
		})
	}
	wg.Wait()
}
