package tracker

import (
	"errors"
	"time"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/report"
	"github.com/ossimport/ossimport/internal/workdir"
)

// onResult files a result from the journal. Results of unknown tasks
// (cleaned jobs) are dropped.
func (t *Tracker) onResult(e bus.JournalEntry) error {
	res, err := protocol.DecodeResult(e.Data)
	if err != nil {
		t.log.Error("dropping an undecodable result", "job", e.Job, "task", e.TaskID, "err", err)
		return nil
	}
	t.fileMu.Lock()
	c, err := t.apply(res)
	t.fileMu.Unlock()
	if errors.Is(err, ErrUnknownTask) {
		return nil
	}
	if err != nil {
		return err
	}
	if res.Partial { // handed back by a stopping worker: not done yet
		t.log.Info("task handed back", "job", res.Job, "task", res.TaskID, "worker", res.Worker, "recorded", c.Done())
		return nil
	}
	t.log.Info("task done", "job", res.Job, "task", res.TaskID, "worker", res.Worker, "copied", c.Copied, "failed", c.Failed)
	t.opts.Filed(res)
	if res.Abort != "" {
		// Every view files the abort the result asks for.
		return t.FileAbort(res.Job, res.Abort)
	}
	return nil
}

// onProgress moves a task under the worker that reports running it.
func (t *Tracker) onProgress(p bus.Progress) {
	t.fileMu.Lock()
	defer t.fileMu.Unlock()
	defer t.book.Track(p.Job, p.TaskID)()
	if _, err := protocol.DecodeProgress(p.Data); err != nil {
		t.log.Warn("dropping an undecodable progress report", "job", p.Job, "task", p.TaskID, "worker", p.Worker, "err", err)
		return
	}
	if err := Dispatch(t.opts.Dir, p.Job, p.TaskID, p.Worker); err != nil && !errors.Is(err, ErrUnknownTask) {
		t.log.Warn("cannot file a running task", "job", p.Job, "task", p.TaskID, "err", err)
		return
	}
	if path, state, err := Locate(t.opts.Dir, p.Job, p.TaskID); err == nil && state == workdir.Dispatched {
		_ = workdir.WriteFile(path+"/"+workdir.ProgressFile, p.Data)
		t.book.Progress(p.Job, p.TaskID, p.Worker, p.Data)
	}
}

// apply files a task result with Apply, then adds the objects it
// recorded to the job's reports and metrics. The caller holds fileMu.
//
// Apply skips what an earlier application already counted: the whole
// result when the task already succeeded, and each object its task
// progress already holds as finished OK. The same objects are left out
// here, read from the task progress before Apply, so a redelivered or
// re-applied result (after a crash) adds no copied or skipped rows twice
// and nothing is kept in memory. Failed objects of a result applied again
// to a still-failed task are reported again, as audit.log records them
// again.
func (t *Tracker) apply(res protocol.TaskResult) (record.Counters, error) {
	defer t.book.Track(res.Job, res.TaskID)()
	var fresh []protocol.ObjectResult
	path, state, lerr := Locate(t.opts.Dir, res.Job, res.TaskID)
	if lerr == nil && state != workdir.Succeed && (!res.Partial || PartialApplies(state)) {
		done, err := record.ReadFinished(path)
		if err != nil {
			return record.Counters{}, err
		}
		for _, o := range res.Objects {
			if code, ok := done.Finished[o.Object.Key]; (!ok || !code.OK()) && (!res.Partial || o.Code.OK()) {
				fresh = append(fresh, o)
			}
		}
	}
	reports := t.opts.Dir.Reports(res.Job)
	if lerr == nil {
		var err error
		if fresh, err = dueRows(path, reports, res, fresh); err != nil { // rows a crash left unwritten: reporting.go
			return record.Counters{}, err
		}
	}
	c, err := Apply(t.opts.Dir, res)
	if err != nil || len(fresh) == 0 {
		return c, err
	}
	for _, o := range fresh {
		t.opts.Metrics.Observe(res.Job, o.Result())
	}
	w, err := report.Open(reports)
	if err != nil {
		t.log.Error("cannot open the reports", "job", res.Job, "err", err)
		return c, nil
	}
	for _, o := range fresh {
		at := o.At
		if at.IsZero() {
			at = time.Now()
		}
		if err := w.AddAt(o.Result(), at); err != nil {
			t.log.Error("cannot write the reports", "job", res.Job, "task", res.TaskID, "err", err)
			break
		}
	}
	if err := w.Close(); err != nil {
		t.log.Error("cannot write the reports", "job", res.Job, "err", err)
		return c, nil
	}
	t.rowsWritten(res.Job, res.TaskID)
	return c, nil
}
