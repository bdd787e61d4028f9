package worker

import (
	"context"
	"fmt"
	"time"

	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/record"
)

// ResultBatch is how many successful objects a running task collects
// before it publishes them as a partial result (protocol.TaskResult
// with Partial set, the kind a stopping worker hands back), so a task's
// results are filed as it goes and are not all held until it ends.
// Failed objects stay for the task's final result, which then lists only
// the objects not published before; its Counters count the whole task.
const ResultBatch = 500

// results is a running task's objects reported and not yet published.
type results struct {
	res  protocol.TaskResult
	errs []error // of res.Objects, in order
	ok   int     // successes in res.Objects
	sent int     // objects published in partial results
	n    int     // objects reported
}

// add keeps one object's result.
func (r *results) add(o protocol.ObjectResult, err error) {
	r.res.Objects = append(r.res.Objects, o)
	r.errs = append(r.errs, err)
	r.n++
	if o.Code.OK() {
		r.ok++
	}
}

// flush publishes the successes kept once there are ResultBatch of them,
// and forgets them. A failed publication keeps them for the final result.
func (r *results) flush(ctx context.Context, w *Worker) error {
	if r.ok < ResultBatch {
		return nil
	}
	partial := r.res
	partial.Objects, partial.Counters, partial.Partial, partial.Finished = nil, record.Counters{}, true, time.Now()
	keep, errs := r.res.Objects[:0:0], r.errs[:0:0]
	for i, o := range r.res.Objects {
		if o.Code.OK() {
			partial.Objects = append(partial.Objects, o)
			partial.Counters.Add(o.Result())
			continue
		}
		keep, errs = append(keep, o), append(errs, r.errs[i])
	}
	data, err := protocol.EncodeResult(partial)
	if err != nil {
		return fmt.Errorf("encode partial result: %w", err)
	}
	if err := w.opts.Bus.PublishResult(ctx, partial.Job, partial.TaskID, data); err != nil {
		return err
	}
	r.res.Objects, r.errs, r.sent, r.ok = keep, errs, r.sent+len(partial.Objects), 0
	return nil
}

// abortReason is abortReason of the kept objects, or "" when some were
// published (those succeeded).
func (r *results) abortReason() string {
	if r.sent > 0 {
		return ""
	}
	return abortReason(r.res.Objects, r.errs)
}
