package worker

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/transfer"
)

// handBackWait bounds the publication of a partial result by a worker
// that is stopping.
const handBackWait = 10 * time.Second

// handBack returns a task to the queue when the worker stops mid-task.
// The objects it finished successfully are published first as a partial
// result, so the records count them as copied (the next delivery finds
// them at the destination and would only report them skipped). Failed
// objects are left to the next delivery to try again.
func (w *Worker) handBack(msg *bus.TaskMsg, res protocol.TaskResult, log *slog.Logger) {
	partial := res
	partial.Objects, partial.Counters, partial.Partial, partial.Finished = nil, record.Counters{}, true, time.Now()
	for _, o := range res.Objects {
		if o.Code.OK() {
			partial.Objects = append(partial.Objects, o)
			partial.Counters.Add(o.Result())
		}
	}
	if len(partial.Objects) > 0 {
		if err := w.publishPartial(partial); err != nil {
			log.Warn("cannot report the objects finished before stopping; the next delivery reports them skipped", "objects", len(partial.Objects), "err", err)
		}
	}
	// A delayed nak is stored by the server, so it survives a restart of
	// an embedded server; a plain one lives only in its memory.
	if err := msg.Nak(time.Millisecond); err != nil {
		log.Warn("cannot hand the task back; it is redelivered after the ack deadline", "err", err)
		return
	}
	log.Info("task handed back", "finished", len(res.Objects), "reported", len(partial.Objects))
}

func (w *Worker) publishPartial(res protocol.TaskResult) error {
	data, err := protocol.EncodeResult(res)
	if err != nil {
		return fmt.Errorf("encode partial result: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), handBackWait)
	defer cancel()
	return w.opts.Bus.PublishResult(ctx, res.Job, res.TaskID, data)
}

// aborted is the failure given to the objects of a task stopped by
// workerAbortWhenUncatchedException=true.
func aborted(key string) error {
	return fmt.Errorf("task aborted after an unexpected error on %q (workerAbortWhenUncatchedException=true)", key)
}

// unreported lists the objects of objs without a result in done.
func unreported(objs []transfer.Object, done map[string]bool) []transfer.Object {
	var out []transfer.Object
	for _, o := range objs {
		if !done[o.Key] {
			out = append(out, o)
		}
	}
	return out
}
