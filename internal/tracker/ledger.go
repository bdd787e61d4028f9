package tracker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/workdir"
)

// workdir.CountersFile in a job's folder holds the counters the tracker
// keeps of the job (a CountersDoc as JSON), so ReadStatus reads one small
// file instead of every task. Only the tracker writes it.

// CountersVersion is the CountersDoc layout; a file of another version
// is rebuilt (and ignored by ReadStatus).
const CountersVersion = 1

// FlushEvery is how often, at most, the Ledger writes a job's counters
// file when they changed; a change that starts or ends the job's work
// (the first task planned or requeued, the last one filed) is written at
// once.
const FlushEvery = 500 * time.Millisecond

// RateWindow is the sliding window over which the Ledger measures a
// job's throughput.
const RateWindow = 30 * time.Second

// CountersDoc is the content of workdir.CountersFile.
type CountersDoc struct {
	Version int `json:"version"`
	// Clean is set when the tracker stopped gracefully. A tracker starting
	// on a file without it (it crashed) rebuilds the counters from the
	// task folders.
	Clean   bool      `json:"clean"`
	Written time.Time `json:"written"`
	Tally
	// Running is the last progress reported of each running task.
	Running []TaskProgress `json:"running,omitempty"`
	// BytesPerSecond is the throughput over the last RateWindow.
	BytesPerSecond  float64 `json:"bytesPerSecond,omitempty"`
	Incremental     bool    `json:"incremental,omitempty"`
	IntervalSeconds int64   `json:"intervalSeconds,omitempty"`
}

// ReadCounters reads a job's counters file; false when there is none or
// it cannot be read.
func ReadCounters(dir workdir.Dir, job string) (CountersDoc, bool) {
	var doc CountersDoc
	data, err := os.ReadFile(filepath.Join(dir.Job(job), workdir.CountersFile))
	if err != nil || json.Unmarshal(data, &doc) != nil || doc.Version != CountersVersion {
		return CountersDoc{}, false
	}
	return doc, true
}

// Ledger keeps every job's counters as the tracker files tasks: tasks by
// state, objects and bytes planned, the finished objects' counters, the
// running tasks' latest progress and the throughput over a sliding
// window. It writes them to each job's workdir.CountersFile. The Tracker owns it:
// it calls Open before filing anything, the hooks (Planned, Track,
// Progress, Mode, Forget) as it files, Run for the periodic writes and
// sampling, and Close when it stops. It is safe for concurrent use.
type Ledger struct {
	dir  workdir.Dir
	now  func() time.Time
	idle func(job string) // a job's work ended (Options.Idle)

	mu     sync.Mutex
	jobs   map[string]*book
	broken map[string]error // jobs that could not be rebuilt
	closed bool
}

// book is one job's counters.
type book struct {
	tally       Tally
	running     map[string]TaskProgress
	incremental bool
	interval    time.Duration
	dirty       bool
	spoiled     bool // changed after Close
	samples     []sample
	rate        float64
}

// sample is a job's bytes done (finished and in flight) at a time.
type sample struct {
	at    time.Time
	bytes int64
}

// NewLedger returns a ledger of the jobs of dir. It calls idle, when
// not nil, as a job's last pending or running task is filed, once the
// counters that show it are written.
func NewLedger(dir workdir.Dir, idle func(job string)) *Ledger {
	if idle == nil {
		idle = func(string) {}
	}
	return &Ledger{dir: dir, now: time.Now, idle: idle, jobs: map[string]*book{}, broken: map[string]error{}}
}

// Open loads the counters of every job of the working directory:
// from its counters file when the tracker stopped cleanly, otherwise
// (missing, or left by a crash) rebuilt from the task folders. Every
// file is then rewritten without the clean mark, so a crash from now on
// is noticed. A job that cannot be loaded (a task file unreadable) is
// left out, and its status read from its folders; the error names it,
// and the other jobs are loaded.
func (l *Ledger) Open() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var errs []error
	for _, job := range Jobs(l.dir) {
		if _, _, err := l.load(job); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// load returns a job's book, loading or rebuilding it the first time;
// scanned is whether it was rebuilt just now. The caller holds mu.
func (l *Ledger) load(job string) (b *book, scanned bool, err error) {
	if b, ok := l.jobs[job]; ok {
		return b, false, nil
	}
	if err := l.broken[job]; err != nil {
		return nil, false, err // not rebuilt at every change
	}
	b = &book{running: map[string]TaskProgress{}}
	if doc, ok := ReadCounters(l.dir, job); ok && doc.Clean {
		b.tally, b.incremental = doc.Tally, doc.Incremental
		b.interval = time.Duration(doc.IntervalSeconds) * time.Second
		for _, tp := range doc.Running {
			b.running[tp.ID] = tp
		}
	} else {
		t, running, err := Scan(l.dir, job)
		if err != nil {
			l.broken[job] = fmt.Errorf("rebuild the counters of job %s: %w", job, err)
			_ = os.Remove(filepath.Join(l.dir.Job(job), workdir.CountersFile))
			return nil, false, l.broken[job]
		}
		b.tally, scanned = t, true
		for _, tp := range running {
			b.running[tp.ID] = tp
		}
		b.incremental, b.interval = doc.Incremental, time.Duration(doc.IntervalSeconds)*time.Second
	}
	l.jobs[job] = b
	if err := l.write(job, b, false); err != nil {
		return nil, false, err
	}
	return b, scanned, nil
}

// book returns a job's book, or nil once the ledger is closed or when it
// cannot be loaded: the hooks then change nothing, and the job's file is
// left without the clean mark so the next start rebuilds it. The caller
// holds mu.
func (l *Ledger) book(job string) *book {
	b, _ := l.bookScanned(job)
	return b
}

// bookScanned is book, also telling whether the book was rebuilt from
// the task folders just now.
func (l *Ledger) bookScanned(job string) (*book, bool) {
	if l.closed {
		l.spoil(job)
		return nil, false
	}
	b, scanned, err := l.load(job)
	if err != nil {
		return nil, false
	}
	return b, scanned
}

// Planned counts a task the tracker filed as pending; fresh is what
// FilePlanned returned, so a task planned again is not counted twice.
func (l *Ledger) Planned(t plan.Task, fresh bool) {
	if l == nil || !fresh {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, scanned := l.bookScanned(t.Job)
	if b == nil || scanned {
		return // the rebuild counted the task, filed before the call
	}
	was := b.tally.phase()
	b.tally.Pending++
	b.tally.Objects += int64(len(t.Objects))
	b.tally.Bytes += t.Bytes
	l.changed(t.Job, b, was)
}

// Track notes a task's state and counters before its folder changes (the
// tracker dispatches it or files a result, the master requeues it); the
// function it returns, called once the change is done, counts the
// difference. A change that changed nothing (a result applied twice)
// counts nothing. The caller serialises changes to the task's folder.
func (l *Ledger) Track(job, id string) (done func()) {
	if l == nil {
		return func() {}
	}
	l.mu.Lock()
	b := l.book(job)
	l.mu.Unlock()
	if b == nil {
		return func() {}
	}
	before := snapshot(l.dir, job, id)
	return func() {
		after := snapshot(l.dir, job, id)
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.closed {
			l.spoil(job)
			return
		}
		if l.jobs[job] != b {
			return // forgotten meanwhile
		}
		was := b.tally.phase()
		b.tally.count(before.state, before.counters, -1)
		b.tally.count(after.state, after.counters, 1)
		b.tally.Retrying += after.retrying() - before.retrying()
		if after.state != workdir.Dispatched {
			// Filed or requeued: its in-flight bytes are now in the
			// finished counters, or to be done again.
			delete(b.running, id)
		}
		if !before.equal(after) || was != b.tally.phase() {
			l.changed(job, b, was)
		}
	}
}

// taskSnap is a task's state and, when finished, its counters.
type taskSnap struct {
	state    string
	counters record.Counters
	retry    bool // pending in a retry
}

// retrying is 1 for a task pending in a retry (Tally.Retrying).
func (s taskSnap) retrying() int {
	if s.retry {
		return 1
	}
	return 0
}

func (s taskSnap) equal(o taskSnap) bool {
	a, b := s.counters, o.counters
	return s.state == o.state && s.retry == o.retry && a.Copied == b.Copied && a.Verified == b.Verified && a.Skipped == b.Skipped &&
		a.Failed == b.Failed && a.CopiedBytes == b.CopiedBytes && a.SkippedBytes == b.SkippedBytes &&
		a.WrittenBytes == b.WrittenBytes && maps.Equal(a.ByCode, b.ByCode) && maps.Equal(a.SkippedBy, b.SkippedBy)
}

// snapshot reads a task's state and finished counters; an unknown task
// has no state.
func snapshot(dir workdir.Dir, job, id string) taskSnap {
	path, state, err := Locate(dir, job, id)
	if err != nil {
		return taskSnap{}
	}
	s := taskSnap{state: state, retry: state == workdir.Pending && Retries(path) > 0}
	if state == workdir.Succeed || state == workdir.Failed {
		s.counters = finishedCounters(path, nil)
	}
	return s
}

// Progress records the latest progress a worker reported of a running
// task (a protocol.TaskProgress as JSON). The tracker calls it only for
// a task filed as dispatched.
func (l *Ledger) Progress(job, id, worker string, data []byte) {
	if l == nil {
		return
	}
	var r protocol.TaskProgress
	if json.Unmarshal(data, &r) != nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.book(job)
	if b == nil {
		return
	}
	b.running[id] = reportedProgress(TaskProgress{ID: id, Worker: worker}, r)
	b.dirty = true
}

// Mode records whether a job is incremental and its rescan interval; the
// master calls it when it starts the job.
func (l *Ledger) Mode(job string, incremental bool, interval time.Duration) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.book(job)
	if b == nil {
		return
	}
	if !incremental {
		interval = 0
	}
	if b.incremental == incremental && b.interval == interval {
		return
	}
	b.incremental, b.interval = incremental, interval
	l.flush(job, b)
}

// Forget drops a job being cleaned; call it before its folder is
// removed, so no write recreates it.
func (l *Ledger) Forget(job string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.jobs, job)
	delete(l.broken, job)
}

// changed marks a book changed: written at once when the job's work
// started or ended or its first task started running or its last one
// stopped (was is the tally's phase before the change), else by the
// next tick. The caller holds mu.
func (l *Ledger) changed(job string, b *book, was phase) {
	b.dirty = true
	now := b.tally.phase()
	if was == now {
		return
	}
	l.flush(job, b)
	if was.active && !now.active {
		l.idle(job)
	}
}

// flush writes a book now; errors are retried by the next tick.
func (l *Ledger) flush(job string, b *book) {
	b.dirty = true
	if l.write(job, b, false) == nil {
		b.dirty = false
	}
}

// Run samples the throughput and writes the changed counters every
// FlushEvery until ctx ends.
func (l *Ledger) Run(ctx context.Context) error {
	t := time.NewTicker(FlushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			l.Tick()
		}
	}
}

// Tick takes one throughput sample of every job and writes the counters
// that changed; Run calls it every FlushEvery.
func (l *Ledger) Tick() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	now := l.now()
	for job, b := range l.jobs {
		if rate := b.sample(now); rate != b.rate {
			b.rate, b.dirty = rate, true
		}
		if b.dirty {
			l.flush(job, b)
		}
	}
}

// sample records the bytes copied now (skipped objects are not copied:
// they do not count) and returns the copy rate over the window: zero
// until it spans a second.
func (b *book) sample(now time.Time) float64 {
	bytes := b.tally.Finished.CopiedBytes
	for _, tp := range b.running {
		bytes += tp.Copied
	}
	b.samples = append(b.samples, sample{at: now, bytes: bytes})
	drop := 0
	for drop < len(b.samples)-1 && now.Sub(b.samples[drop].at) > RateWindow {
		drop++
	}
	b.samples = append(b.samples[:0], b.samples[drop:]...)
	first := b.samples[0]
	span := now.Sub(first.at).Seconds()
	if span < 1 || bytes <= first.bytes {
		return 0
	}
	return float64(bytes-first.bytes) / span
}

// spoil rewrites a job's file without the clean mark: a change came
// after Close (a planner still stopping), so the file may miss it. The
// caller holds mu.
func (l *Ledger) spoil(job string) {
	if b, ok := l.jobs[job]; ok && !b.spoiled {
		b.spoiled = true
		_ = l.write(job, b, false)
	}
}

// Close writes every job's counters with the clean mark; the hooks
// change nothing afterwards.
func (l *Ledger) Close() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	var first error
	for job, b := range l.jobs {
		b.rate = 0
		if err := l.write(job, b, true); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// write writes a job's counters file, unless the job's folder is gone
// (cleaned). The caller holds mu.
func (l *Ledger) write(job string, b *book, clean bool) error {
	if _, err := os.Stat(l.dir.Job(job)); err != nil {
		return nil
	}
	doc := CountersDoc{Version: CountersVersion, Clean: clean, Written: l.now(), Tally: b.tally,
		BytesPerSecond: b.rate, Incremental: b.incremental, IntervalSeconds: int64(b.interval / time.Second)}
	for _, tp := range b.running {
		doc.Running = append(doc.Running, tp)
	}
	sort.Slice(doc.Running, func(i, j int) bool { return doc.Running[i].ID < doc.Running[j].ID })
	data, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	if err := workdir.WriteFile(filepath.Join(l.dir.Job(job), workdir.CountersFile), data); err != nil {
		return fmt.Errorf("write the counters of job %s: %w", job, err)
	}
	return nil
}
