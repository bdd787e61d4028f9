package tracker

import (
	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/workdir"
)

// applyPartial records the objects of a partial result (a worker stopped
// and handed the task back) in the task's audit.log and progress, once,
// without finishing the task: no STATUS, DONE or WORKER, no move. Only
// successes are recorded; the next delivery retries the rest. A partial
// result of a finished task changes nothing. It returns what it recorded.
func applyPartial(from, state string, res protocol.TaskResult) (record.Counters, error) {
	var c record.Counters
	if !PartialApplies(state) {
		return c, nil
	}
	w, _, done, err := record.Resume(from)
	if err != nil {
		return c, err
	}
	for _, o := range res.Objects {
		if code, ok := done.Finished[o.Object.Key]; !o.Code.OK() || ok && code.OK() {
			continue
		}
		if err := w.Add(o.Result()); err != nil {
			_ = w.Suspend()
			return c, err
		}
		c.Add(o.Result())
	}
	return c, w.Suspend()
}

// PartialApplies reports whether a partial result is recorded for a task
// in state: only while the task is unfinished.
func PartialApplies(state string) bool {
	return state != workdir.Succeed && state != workdir.Failed
}
