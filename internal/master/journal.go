package master

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/workdir"
)

// The working-directory view is a projection of the jobs' journals: every
// service, leader or standby, follows the journal stream in order and
// files each entry into its own view (task folders, records, reports,
// counters). The view can therefore be rebuilt from the journal at any
// time, and a standby's view is current when it takes over.

// markerFile records how far the view has followed the journal.
const markerFile = "JOURNAL"

// marker is the content of markerFile.
type marker struct {
	// Journal identifies the stream (bus.JournalID): a stream created
	// again starts its sequences over, so the view follows it from the
	// start.
	Journal string `json:"journal"`
	// Seq is the last entry filed.
	Seq uint64 `json:"seq"`
}

func (m *Master) markerPath() string {
	return filepath.Join(string(m.opts.Dir), "master", markerFile)
}

// follow files the journal into the view from where it left off, until
// ctx ends.
func (m *Master) follow(ctx context.Context) error {
	id, err := m.opts.Bus.JournalID(ctx)
	if err != nil {
		return err
	}
	var mk marker
	if data, err := os.ReadFile(m.markerPath()); err == nil {
		_ = json.Unmarshal(data, &mk)
	}
	from := uint64(0)
	if mk.Journal == id {
		from = mk.Seq + 1
		m.filed.Store(mk.Seq)
	} else if mk.Journal != "" {
		m.log.Warn("the journal stream was created again since this view was filed (a lost NATS store?): filing it from its start",
			"filed", mk.Seq)
		m.noteLost(mk) // the active master restores the jobs: see restore.go
	}
	saved := m.filed.Load()
	save := func() {
		if seq := m.filed.Load(); seq != saved {
			data, _ := json.Marshal(marker{Journal: id, Seq: seq})
			if err := workdir.WriteFile(m.markerPath(), data); err != nil {
				m.log.Warn("cannot record how far the journal was filed", "err", err)
				return
			}
			saved = seq
		}
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-sctx.Done():
				return
			case <-t.C:
				m.markMu.Lock()
				save()
				m.markMu.Unlock()
			}
		}
	}()
	err = m.opts.Bus.Follow(ctx, from, m.file)
	stop()
	m.markMu.Lock()
	save()
	m.markMu.Unlock()
	return err
}

// file files one journal entry into the view. Filing is idempotent: an
// entry filed again (the marker lags the view after a crash) changes
// nothing.
func (m *Master) file(e bus.JournalEntry) error {
	if e.Gone {
		m.filed.Store(e.Seq)
		return nil
	}
	var err error
	switch e.Kind {
	case bus.KindResult:
		err = m.onResult(e)
	case bus.KindPlanned:
		err = m.filePlanned(e)
	case bus.KindRequeue:
		err = m.fileRequeue(e)
	case bus.KindAbort:
		err = m.fileAbort(e.Job, string(e.Data))
	case bus.KindClean:
		err = m.fileClean(e)
	default:
		m.tlog.Warn("skipping a journal entry of an unknown kind (a newer ossimport?)", "job", e.Job, "kind", e.Kind, "seq", e.Seq)
	}
	if err != nil {
		return err
	}
	m.filed.Store(e.Seq)
	return nil
}

// filePlanned files a planned task as pending.
func (m *Master) filePlanned(e bus.JournalEntry) error {
	t, err := protocol.DecodeTask(e.Data)
	if err != nil {
		m.tlog.Error("dropping an undecodable planned task", "job", e.Job, "task", e.TaskID, "err", err)
		return nil
	}
	m.fileMu.Lock()
	defer m.fileMu.Unlock()
	_, fresh, err := tracker.FilePlanned(m.opts.Dir, t)
	m.book.Planned(t, fresh && err == nil)
	return err
}

// fileRequeue moves a failed task back to pending for its retry attempt,
// unless the view already did.
func (m *Master) fileRequeue(e bus.JournalEntry) error {
	attempt, err := strconv.Atoi(string(e.Data))
	if err != nil {
		m.tlog.Error("dropping an undecodable retry", "job", e.Job, "task", e.TaskID, "err", err)
		return nil
	}
	m.fileMu.Lock()
	defer m.fileMu.Unlock()
	defer m.book.Track(e.Job, e.TaskID)()
	_, err = applyRequeue(m.opts.Dir, e.Job, e.TaskID, attempt)
	if errors.Is(err, tracker.ErrUnknownTask) {
		return nil
	}
	return err
}

// fileAbort records a job's abort in the view; the leader also stops the
// job (see stopAborted).
func (m *Master) fileAbort(name, reason string) error {
	if err := tracker.SetState(m.opts.Dir, name, tracker.Abort, reason); err != nil {
		return err
	}
	m.mu.Lock()
	if p, ok := m.planning[name]; ok {
		p.cancel()
	}
	m.done[name] = true
	m.mu.Unlock()
	if m.isLeader() {
		m.stopAborted(context.Background(), name, reason)
	}
	return nil
}

// fileClean removes a cleaned job's folder from the view, unless the job
// was submitted again after the clean (its new folder is kept).
func (m *Master) fileClean(e bus.JournalEntry) error {
	if pj, err := m.job(context.Background(), e.Job); err == nil && pj.Submitted.After(e.Time) {
		return nil
	}
	m.fileMu.Lock()
	defer m.fileMu.Unlock()
	m.book.Forget(e.Job)
	err := os.RemoveAll(m.opts.Dir.Job(e.Job))
	m.book.Forget(e.Job)
	return err
}

// filedUpTo waits until the view has filed the journal up to its end as
// it is now (a new leader decides on a current view), or ctx ends.
func (m *Master) filedUpTo(ctx context.Context) error {
	end, err := m.opts.Bus.JournalEnd(ctx)
	if err != nil {
		return err
	}
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for m.filed.Load() < end {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// appendResult adds a result the master makes itself (a dead task's
// failure) to the job's journal; msgID makes it once only.
func (m *Master) appendResult(ctx context.Context, res protocol.TaskResult, msgID string) error {
	data, err := protocol.EncodeResult(res)
	if err != nil {
		return err
	}
	return m.opts.Bus.Append(ctx, res.Job, bus.KindResult, res.TaskID, msgID, data)
}
