package runner

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"

	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// runTask runs one pending task to the end and files it as succeeded or
// failed. An interrupted task (ctx ended) stays under dispatched.
func (r *Runner) runTask(ctx context.Context, id string) error {
	name := r.spec.Name
	dir := r.opts.Dir.Task(name, workdir.Dispatched, Worker, id)
	if err := workdir.Move(r.opts.Dir.Task(name, workdir.Pending, "", id), dir); err != nil {
		return err
	}
	r.mu.Lock()
	r.tasks.Pending--
	r.tasks.Running++
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.tasks.Running--
		r.mu.Unlock()
	}()
	w, t, progress, err := record.Resume(dir)
	if err != nil {
		return err
	}
	todo, _ := progress.Resume(t.Objects)
	copier := r.copier.With(func(o *transfer.Options) {
		next := o.OnUploadStarted
		o.OnUploadStarted = func(obj transfer.Object, uploadID string, partSize int64) {
			if err := w.Upload(obj, uploadID, partSize); err != nil {
				r.log.Warn("cannot record upload progress", "task", id, "err", err)
			}
			if next != nil {
				next(obj, uploadID, partSize)
			}
		}
	})
	taskCtx, abort := context.WithCancelCause(ctx)
	defer abort(nil)
	reported := make(map[string]bool, len(todo))
	r.opts.Metrics.InFlight(len(todo))
	defer func() { r.opts.Metrics.InFlight(len(reported) - len(todo)) }()
	onResult := func(res transfer.Result) {
		if !reported[res.Object.Key] {
			r.opts.Metrics.InFlight(-1)
		}
		reported[res.Object.Key] = true
		if err := w.Add(res); err != nil {
			r.log.Error("cannot write task records", "task", id, "err", err)
		}
		if err := r.reports.Add(res); err != nil {
			r.log.Error("cannot write the reports", "task", id, "err", err)
		}
		r.opts.Metrics.Observe(name, res)
		if !res.Code.OK() {
			r.log.Warn("object failed", "task", id, "key", res.Object.Key, "code", res.Code, "detail", res.Detail)
			if r.spec.AbortOnUnknownError && unknown(res) {
				abort(fmt.Errorf("task aborted after an unexpected error on %q (workerAbortWhenUncatchedException=true)", res.Object.Key))
			}
		}
	}
	copier.RunAll(taskCtx, r.slots, todo, onResult)
	if ctx.Err() != nil {
		return w.Suspend() // interrupted: resumed by the next run
	}
	if cause := context.Cause(taskCtx); cause != nil {
		for _, o := range todo {
			if !reported[o.Key] {
				onResult(transfer.Result{Object: o, Code: transfer.UploadFailed, Detail: cause.Error()})
			}
		}
	}
	c, err := w.Close()
	if err != nil {
		return err
	}
	return r.finish(name, id, dir, c)
}

// unknown reports whether a failure is one the engine cannot classify:
// not a known result cause, not a storage sentinel, not transient.
func unknown(res transfer.Result) bool {
	if res.Code != transfer.DownloadFailed && res.Code != transfer.UploadFailed {
		return false
	}
	for _, known := range []error{storage.ErrNotExist, storage.ErrBucketNotExist, storage.ErrAccessDenied,
		storage.ErrNotSupported, storage.ErrInvalidKey, storage.ErrNeedsRestore, storage.ErrChecksumMismatch} {
		if errors.Is(res.Err, known) {
			return false
		}
	}
	return !storage.IsTransient(res.Err)
}

// finish files a finished task under succeed_tasks or failed_tasks.
func (r *Runner) finish(name, id, dir string, c record.Counters) error {
	state := workdir.Succeed
	if c.Failed > 0 {
		state = workdir.Failed
	}
	if err := workdir.Move(dir, r.opts.Dir.Task(name, state, "", id)); err != nil {
		return err
	}
	r.mu.Lock()
	c.Objects, c.Bytes = 0, 0 // counted when planned
	r.counters.Merge(c)
	if state == workdir.Succeed {
		r.tasks.Succeed++
	} else {
		r.tasks.Failed++
	}
	r.mu.Unlock()
	if r.opts.OnTask != nil {
		r.opts.OnTask(id, c)
	}
	return nil
}

// Requeue moves a failed task back to pending_tasks for a retry of its
// failed objects (see record.Requeue).
func Requeue(dir workdir.Dir, job, id string) error {
	_, err := record.Requeue(dir.Task(job, workdir.Failed, "", id), dir.Task(job, workdir.Pending, "", id))
	return err
}

// queue hands task ids to the task goroutines; push never blocks.
type queue struct {
	mu     sync.Mutex
	ids    []string
	closed bool
	wake   chan struct{}
}

func newQueue() *queue { return &queue{wake: make(chan struct{}, 1)} }

func (q *queue) push(id string) {
	q.mu.Lock()
	q.ids = append(q.ids, id)
	q.mu.Unlock()
	q.signal()
}

func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

func (q *queue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// next yields ids until the queue is closed and empty or ctx ends.
func (q *queue) next(ctx context.Context) iter.Seq[string] {
	return func(yield func(string) bool) {
		for {
			q.mu.Lock()
			if len(q.ids) > 0 {
				id := q.ids[0]
				q.ids = q.ids[1:]
				q.mu.Unlock()
				q.signal() // let another goroutine look too
				if !yield(id) {
					return
				}
				continue
			}
			closed := q.closed
			q.mu.Unlock()
			if closed {
				q.signal()
				return
			}
			select {
			case <-q.wake:
			case <-ctx.Done():
				return
			}
		}
	}
}
