package master

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/workdir"
)

// Every service runs a master; the one holding the master lease (see
// bus.Lead) is the active master: it plans, fails dead tasks, aborts
// jobs, answers the console and writes import.log's job lines. The
// others are standbys: they file the journal into their own view (so
// their stat is current) and take over within a lease TTL of the
// leader's loss.

// LeaderView is the content of workdir.LeaderFile.
type LeaderView struct {
	// Name is the active master (empty: none).
	Name string `json:"name,omitempty"`
	// Since is when it took over; Renewed its last renewal.
	Since   time.Time `json:"since,omitzero"`
	Renewed time.Time `json:"renewed,omitzero"`
	// Seen is when this service last looked: a stale Seen means that no
	// service runs here any more.
	Seen time.Time `json:"seen"`
	// Lost is when a master was last known to hold the lease, when none
	// does now.
	Lost time.Time `json:"lost,omitzero"`
	// Stopped is when this working directory's service stopped: no
	// service runs here since, whatever Seen says.
	Stopped time.Time `json:"stopped,omitzero"`
}

// ReadLeader reads the working directory's record of the active master.
func ReadLeader(dir workdir.Dir) (LeaderView, error) {
	var v LeaderView
	data, err := os.ReadFile(leaderPath(dir))
	if err != nil {
		return v, err
	}
	err = json.Unmarshal(data, &v)
	return v, err
}

func leaderPath(dir workdir.Dir) string {
	return dir.Master(workdir.LeaderFile)
}

func (m *Master) isLeader() bool { return m.leading.Load() }

// campaign runs for the master lease until ctx ends.
func (m *Master) campaign(ctx context.Context) error {
	return m.opts.Bus.Lead(ctx, bus.LeadOptions{Name: m.opts.Name, Predecessor: m.opts.Predecessor, Observe: m.observeLeader}, m.lead)
}

// observeLeader records the lease's holder in the view.
func (m *Master) observeLeader(l bus.Leader, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	v := LeaderView{Seen: now}
	if ok {
		v.Name, v.Since, v.Renewed = l.Name, l.Since, l.Renewed
		m.lastLeader = l.Renewed
	} else {
		v.Lost = m.lastLeader
		if v.Lost.IsZero() {
			v.Lost = now
		}
	}
	data, _ := json.Marshal(v)
	_ = workdir.WriteFile(leaderPath(m.opts.Dir), data)
}

// leftView records in the view that this service stopped, so that stat
// does not take the last look for a running master.
func (m *Master) leftView() {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, err := ReadLeader(m.opts.Dir)
	if err != nil {
		return
	}
	v.Stopped = time.Now()
	data, _ := json.Marshal(v)
	_ = workdir.WriteFile(leaderPath(m.opts.Dir), data)
}

// lead is the active master's work, from taking over the lease to losing
// it (or ctx ending).
func (m *Master) lead(ctx context.Context) error {
	start := time.Now()
	if err := m.tr.FiledUpTo(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	m.leading.Store(true)
	defer func() {
		// A service that stops stays the leader for its last look (the
		// job-end lines); one that lost the lease stops deciding.
		if m.running.Err() == nil {
			m.leading.Store(false)
		}
		m.stopPlanning()
	}()
	m.log.Info("this service is the active master", "name", m.opts.Name, "takeover", time.Since(start).Round(time.Millisecond))
	m.restoreLost(ctx) // after a lost NATS store: see restore.go
	dead, err := m.opts.Bus.DeadTasks(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	m.takeOver(ctx)
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	wg.Go(func() {
		if err := m.opts.Bus.HandleControl(ctx, m.control); err != nil && ctx.Err() == nil {
			errc <- err
		}
	})
	wg.Go(func() { m.onDead(ctx, dead) })
	wg.Go(func() { m.handBackLost(ctx) })
	var first error
	select {
	case <-ctx.Done():
	case first = <-errc:
	}
	wg.Wait()
	if ctx.Err() == nil || first != nil {
		return first
	}
	m.log.Info("this service is no longer the active master", "name", m.opts.Name)
	return nil
}

// takeOver does what a master that stopped or died may have left undone:
// it queues again the retries its view holds as pending (a retry is
// journaled and filed before it is queued, so a crash in between loses
// the queue message; the queue drops the ones it holds within its
// deduplication window) and stops aborted jobs. Planned tasks need no
// such pass: one whose queue message was lost comes after the last saved
// scan checkpoint, so the resumed scan queues it again.
func (m *Master) takeOver(ctx context.Context) {
	for _, name := range tracker.Jobs(m.opts.Dir) {
		if st, err := tracker.ReadStatus(m.opts.Dir, name); err == nil && st.State == tracker.Abort {
			m.stopAborted(ctx, name, st.Reason)
			continue
		}
		n, err := m.requeuePending(ctx, name)
		if err != nil && ctx.Err() == nil {
			m.log.Warn("cannot queue the pending retries again", "job", name, "err", err)
		}
		if n > 0 {
			m.log.Info("pending retries queued again at takeover", "job", name, "tasks", n)
		}
	}
}

// requeuePending publishes again the job's pending tasks that are in a
// retry, as they are in the view.
func (m *Master) requeuePending(ctx context.Context, name string) (int, error) {
	n := 0
	for _, id := range workdir.Subdirs(filepath.Join(m.opts.Dir.Job(name), workdir.Pending)) {
		if tracker.Retries(m.opts.Dir.Task(name, workdir.Pending, "", id)) == 0 {
			continue // planned, not retried: see takeOver
		}
		t, attempt, err := m.tr.QueuedTask(name, id)
		if errors.Is(err, tracker.ErrUnknownTask) || attempt == 0 {
			continue
		}
		if err != nil {
			return n, err
		}
		data, err := protocol.EncodeTask(t)
		if err != nil {
			return n, err
		}
		if err := m.opts.Bus.RetryTask(ctx, name, id, attempt, data); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
