package tracker

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"time"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/workdir"
)

// The working-directory view is a projection of the jobs' journals: every
// service, leader or standby, follows the journal stream in order and
// files each entry into its own view (task folders, records, reports,
// counters). The view can therefore be rebuilt from the journal at any
// time, and a standby's view is current when it takes over.

// marker is the content of workdir.JournalFile.
type marker struct {
	// Journal identifies the stream (bus.JournalID): a stream created
	// again starts its sequences over, so the view follows it from the
	// start.
	Journal string `json:"journal"`
	// Seq is the last entry filed.
	Seq uint64 `json:"seq"`
}

func markerPath(dir workdir.Dir) string {
	return dir.Master(workdir.JournalFile)
}

// follow files the journal into the view from where it left off, until
// ctx ends.
func (t *Tracker) follow(ctx context.Context) error {
	id, err := t.opts.Bus.JournalID(ctx)
	if err != nil {
		return err
	}
	var mk marker
	if data, err := os.ReadFile(markerPath(t.opts.Dir)); err == nil {
		_ = json.Unmarshal(data, &mk)
	}
	from := uint64(0)
	if mk.Journal == id {
		from = mk.Seq + 1
		t.filed.Store(mk.Seq)
	} else if mk.Journal != "" {
		t.svc.Warn("the journal stream was created again since this view was filed (a lost NATS store?): filing it from its start",
			"filed", mk.Seq)
		t.noteLost(mk) // the active master restores the jobs (StoreLost)
	}
	saved := t.filed.Load()
	save := func() {
		if seq := t.filed.Load(); seq != saved {
			data, _ := json.Marshal(marker{Journal: id, Seq: seq})
			if err := workdir.WriteFile(markerPath(t.opts.Dir), data); err != nil {
				t.svc.Warn("cannot record how far the journal was filed", "err", err)
				return
			}
			saved = seq
		}
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		tk := time.NewTicker(time.Second)
		defer tk.Stop()
		for {
			select {
			case <-sctx.Done():
				return
			case <-tk.C:
				t.markMu.Lock()
				save()
				t.markMu.Unlock()
			}
		}
	}()
	err = t.opts.Bus.Follow(ctx, from, t.file)
	stop()
	t.markMu.Lock()
	save()
	t.markMu.Unlock()
	return err
}

// file files one journal entry into the view. Filing is idempotent: an
// entry filed again (the marker lags the view after a crash) changes
// nothing.
func (t *Tracker) file(e bus.JournalEntry) error {
	if e.Gone {
		t.filed.Store(e.Seq)
		return nil
	}
	var err error
	switch e.Kind {
	case bus.KindResult:
		err = t.onResult(e)
	case bus.KindPlanned:
		err = t.filePlanned(e)
	case bus.KindRequeue:
		err = t.fileRequeue(e)
	case bus.KindAbort:
		err = t.FileAbort(e.Job, string(e.Data))
	case bus.KindClean:
		err = t.fileClean(e)
	default:
		t.log.Warn("skipping a journal entry of an unknown kind (a newer ossimport?)", "job", e.Job, "kind", e.Kind, "seq", e.Seq)
	}
	if err != nil {
		// The follower files the entry again and again, never skipping
		// it, so nothing after it is filed meanwhile: say so once.
		if t.stuck != e.Seq {
			t.stuck = e.Seq
			t.log.Warn("cannot file a journal entry; trying again (nothing after it is filed until it is)",
				"job", e.Job, "task", e.TaskID, "kind", kindName(e.Kind), "seq", e.Seq, "err", err)
		}
		return err
	}
	if t.stuck == e.Seq {
		t.log.Info("filed the journal entry that failed before", "job", e.Job, "task", e.TaskID, "seq", e.Seq)
	}
	t.filed.Store(e.Seq)
	return nil
}

// kindName names a journal entry's kind in the log.
func kindName(kind string) string {
	if kind == bus.KindResult {
		return "result"
	}
	return kind
}

// filePlanned files a planned task as pending.
func (t *Tracker) filePlanned(e bus.JournalEntry) error {
	task, err := protocol.DecodeTask(e.Data)
	if err != nil {
		t.log.Error("dropping an undecodable planned task", "job", e.Job, "task", e.TaskID, "err", err)
		return nil
	}
	t.fileMu.Lock()
	defer t.fileMu.Unlock()
	_, fresh, err := FilePlanned(t.opts.Dir, task)
	t.book.Planned(task, fresh && err == nil)
	return err
}

// fileRequeue moves a failed task back to pending for its retry attempt,
// unless the view already did.
func (t *Tracker) fileRequeue(e bus.JournalEntry) error {
	attempt, err := strconv.Atoi(string(e.Data))
	if err != nil {
		t.log.Error("dropping an undecodable retry", "job", e.Job, "task", e.TaskID, "err", err)
		return nil
	}
	t.fileMu.Lock()
	defer t.fileMu.Unlock()
	defer t.book.Track(e.Job, e.TaskID)()
	_, err = ApplyRequeue(t.opts.Dir, e.Job, e.TaskID, attempt)
	if errors.Is(err, ErrUnknownTask) {
		return nil
	}
	return err
}

// FileAbort records a job's abort in the view, then tells the master
// (Options.Aborted). The journal's aborts are filed here; the master
// files one itself when it cannot journal it.
func (t *Tracker) FileAbort(name, reason string) error {
	if err := SetState(t.opts.Dir, name, Abort, reason); err != nil {
		return err
	}
	t.opts.Aborted(name, reason)
	return nil
}

// fileClean removes a cleaned job's folder from the view, unless the job
// was submitted again after the clean (its new folder is kept).
func (t *Tracker) fileClean(e bus.JournalEntry) error {
	if pj, err := SubmittedJob(context.Background(), t.opts.Bus, e.Job); err == nil && pj.Submitted.After(e.Time) {
		return nil
	}
	t.fileMu.Lock()
	defer t.fileMu.Unlock()
	t.book.Forget(e.Job)
	err := os.RemoveAll(t.opts.Dir.Job(e.Job))
	t.book.Forget(e.Job)
	return err
}

// FiledUpTo waits until the view has filed the journal up to its end as
// it is now (a new leader decides on a current view), or ctx ends.
func (t *Tracker) FiledUpTo(ctx context.Context) error {
	end, err := t.opts.Bus.JournalEnd(ctx)
	if err != nil {
		return err
	}
	tk := time.NewTicker(20 * time.Millisecond)
	defer tk.Stop()
	for t.filed.Load() < end {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tk.C:
		}
	}
	return nil
}

// SubmittedJob reads a submitted job from the bus's jobs bucket.
func SubmittedJob(ctx context.Context, b *bus.Bus, name string) (protocol.Job, error) {
	var pj protocol.Job
	data, err := b.Jobs().Get(ctx, name)
	if err != nil {
		return pj, err
	}
	return protocol.DecodeJob(data)
}
