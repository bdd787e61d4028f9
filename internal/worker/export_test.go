package worker

import "github.com/ossimport/ossimport/internal/transfer"

// Limiters returns the byte and request limiters of the copier the
// worker built for job, and whether it built one.
func Limiters(w *Worker, job string) (bytes, requests transfer.Limiter, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	eng, ok := w.engines[job]
	if !ok {
		return nil, nil, false
	}
	o := eng.copier.Options()
	return o.Bandwidth, o.Requests, true
}

// Running returns how many tasks the worker holds.
func Running(w *Worker) int { return int(w.running.Load()) }

// SlotLimit returns how many objects the worker copies at once now.
func SlotLimit(w *Worker) int { return w.slots.Limit() }
