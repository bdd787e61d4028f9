package transfer

import (
	"context"
	"sync"
)

// Slots bound the objects copied at once by a worker, across all its
// running tasks (workerTaskThreadNum). The bound can be moved while
// objects are copied (SetLimit): a copy in flight keeps its slot, and
// no new copy starts until the slots in use are below the bound.
type Slots struct {
	mu      sync.Mutex
	limit   int
	used    int
	waited  int64         // acquires that found every slot taken
	changed chan struct{} // closed when a slot is freed or the limit grows
}

// NewSlots returns n slots.
func NewSlots(n int) *Slots {
	return &Slots{limit: max(n, 1), changed: make(chan struct{})}
}

// acquire takes a slot, waiting for one; false if ctx ended first.
func (s *Slots) acquire(ctx context.Context) bool {
	counted := false
	for {
		s.mu.Lock()
		if s.used < s.limit {
			s.used++
			s.mu.Unlock()
			return true
		}
		if !counted {
			s.waited++
			counted = true
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

// release gives a slot back.
func (s *Slots) release() {
	s.mu.Lock()
	s.used--
	s.signal()
	s.mu.Unlock()
}

// signal wakes the waiting acquires; s.mu is held.
func (s *Slots) signal() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// SetLimit moves the bound to n (at least 1).
func (s *Slots) SetLimit(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n = max(n, 1)
	if n > s.limit {
		defer s.signal()
	}
	s.limit = n
}

// Limit is the current bound.
func (s *Slots) Limit() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limit
}

// InUse is the number of slots taken.
func (s *Slots) InUse() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.used
}

// Waited counts the acquires so far that found every slot taken: while
// it grows, copies queue for slots and the bound, not the work offered,
// sets the pace.
func (s *Slots) Waited() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waited
}

// RunAll copies objs (or audits them, with Options.Audit), each in one
// of slots, calling onResult (serially) for each result as it comes. It
// returns when every object has a result or ctx is done; objects not
// started when ctx ends get no result.
//
// The goroutines that copy are reused from object to object: a copy
// goes deep through the SDK's middleware, and a fresh goroutine per
// object grew (copied) its stack several times for each one.
func (c *Copier) RunAll(ctx context.Context, slots *Slots, objs []Object, onResult func(Result)) {
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
		defer slots.release()
		if ctx.Err() != nil && !res.Code.OK() {
			return // interrupted, not failed: no result
		}
		mu.Lock()
		onResult(res)
		mu.Unlock()
	}
	for _, obj := range objs {
		if !slots.acquire(ctx) {
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
