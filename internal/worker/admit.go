package worker

import (
	"context"
	"sync/atomic"
)

// admission decides when the worker takes its next task: only when the
// objects of the tasks it holds leave one of its slots free (as many as
// workerTaskThreadNum, or as tune sets), so it holds at most one task it
// cannot start at once and a worker that joins finds the rest of the
// queue still there.
type admission struct {
	slots      func() int   // the current number of slots
	unfinished atomic.Int64 // objects of held tasks without a result
	wake       chan struct{}
}

func newAdmission(slots func() int) *admission {
	return &admission{slots: slots, wake: make(chan struct{}, 1)}
}

// wait blocks until a slot is free of the held tasks' objects, or ctx
// ends.
func (a *admission) wait(ctx context.Context) error {
	for a.unfinished.Load() >= int64(max(a.slots(), 1)) {
		select {
		case <-a.wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// hold counts the n objects of a task about to run.
func (a *admission) hold(n int) *holding {
	a.unfinished.Add(int64(n))
	return &holding{a: a, left: int64(n)}
}

// holding is one running task's objects still counted by its admission.
type holding struct {
	a    *admission
	left int64
}

// done counts one of the task's objects finished. Calls are serial (the
// task's result callback).
func (h *holding) done() {
	if h == nil || h.left == 0 {
		return
	}
	h.left--
	h.a.free(1)
}

// release counts the rest of the task's objects finished (the task ended).
func (h *holding) release() {
	if h == nil || h.left == 0 {
		return
	}
	n := h.left
	h.left = 0
	h.a.free(n)
}

func (a *admission) free(n int64) {
	a.unfinished.Add(-n)
	select {
	case a.wake <- struct{}{}:
	default:
	}
}
