package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/job"
	"github.com/ossimport/ossimport/internal/metrics"
	"github.com/ossimport/ossimport/internal/progress"
	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// submitRun makes run's job the service's: submitted when new; when
// known, its job file brought up to date, an Abort cleared and its
// failed tasks queued again (only their failed objects), so running the
// same command again retries what failed and resumes what was
// interrupted.
func (se *service) submitRun(ctx context.Context, spec *job.Spec, path string, raw []byte) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	pj := protocol.Job{Name: spec.Name, Config: raw, File: abs, Submitted: time.Now()}
	data, err := se.mb.Jobs().Get(ctx, spec.Name)
	switch {
	case errors.Is(err, bus.ErrNotFound):
		if err := se.warnJobFile(putJob(ctx, se.mb, se.dir, pj, true)); err != nil {
			return err
		}
	case err != nil:
		return fmt.Errorf("read job %s: %w", spec.Name, err)
	default:
		var old protocol.Job
		if err := json.Unmarshal(data, &old); err != nil {
			return fmt.Errorf("read job %s: %w", spec.Name, err)
		}
		if !bytes.Equal(old.Config, raw) || old.State == tracker.Abort {
			pj.Submitted = old.Submitted
			if err := se.warnJobFile(putJob(ctx, se.mb, se.dir, pj, false)); err != nil {
				return err
			}
		}
		if err := os.Remove(filepath.Join(se.dir.Job(spec.Name), tracker.StateFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("clear the job's state: %w", err)
		}
		n, err := se.master.RetryFailed(ctx, spec.Name)
		if err != nil {
			return err
		}
		if n > 0 {
			se.logs.jobs.Info("failed tasks queued again", "job", spec.Name, "tasks", n)
		}
	}
	return nil
}

// warnJobFile logs a jobFileError as a warning and returns other errors.
func (se *service) warnJobFile(err error) error {
	var jf *jobFileError
	if errors.As(err, &jf) {
		se.logs.jobs.Warn(jf.Error())
		return nil
	}
	return err
}

// putJob stores the job for the master (created only if new when create
// is set) and writes its masked job file into the job's folder, so stat
// shows the job from then on. submit and run both file jobs this way.
func putJob(ctx context.Context, b *bus.Bus, dir workdir.Dir, pj protocol.Job, create bool) error {
	data, err := json.Marshal(pj)
	if err != nil {
		return err
	}
	if create {
		err = b.CreateJob(ctx, pj.Name, data)
	} else {
		err = b.Jobs().Put(ctx, pj.Name, data)
	}
	if err != nil {
		return fmt.Errorf("submit job %s: %w", pj.Name, err)
	}
	if err := workdir.WriteFile(dir.JobFile(pj.Name), config.MaskJobFile(pj.Config)); err != nil {
		return &jobFileError{err: err}
	}
	return nil
}

// jobFileError is a job stored for the master whose job file could not
// be written into its folder: the job runs, stat shows it from its
// records; callers warn.
type jobFileError struct{ err error }

func (e *jobFileError) Error() string {
	return fmt.Sprintf("the job was submitted, but its job file could not be kept in the working directory: %v", e.err)
}

func (e *jobFileError) Unwrap() error { return e.err }

// jobSnapshot is a job's status as a progress snapshot.
func jobSnapshot(st tracker.JobStatus, dir workdir.Dir, elapsed time.Duration) progress.Snapshot {
	snap := progress.Snapshot{
		Job: st.Name, ScanFinished: st.ScanFinished,
		Objects: st.Objects.Done, ObjectsTotal: st.Objects.Total,
		Bytes: st.Bytes.Done, BytesTotal: st.Bytes.Total, BytesPerSecond: st.Throughput, ETA: st.ETA,
		Failed: st.FailedObjs, Elapsed: elapsed,
		Tasks: progress.Tasks{Pending: st.Pending, Running: st.Dispatched, Done: st.Succeed + st.Failed},
	}
	if cp, err := workdir.LoadCheckpoint(dir.Checkpoint(st.Name)); err == nil && cp != nil {
		snap.Listed = cp.Stats.Listed
	}
	for code, n := range st.ByCode {
		if !transfer.Code(code).OK() && n > 0 {
			if snap.FailedBy == nil {
				snap.FailedBy = map[string]int64{}
			}
			snap.FailedBy[code] = n
		}
	}
	return snap
}

// followJob shows a job's progress on w until the returned function is
// called: live bars on a terminal, a line every `every` otherwise (none
// when every <= 0). With metrics, it also keeps the job's scan and queue
// gauges up to date. The returned function draws the final state and
// waits for the display to finish.
func followJob(w io.Writer, dir workdir.Dir, name string, mx *metrics.Metrics, every time.Duration) func() {
	var rend progress.Renderer
	live := false
	tick := every
	if every > 0 {
		if progress.Live(w) {
			rend, live, tick = progress.NewTerminal(w, 0), true, min(every, liveEvery)
		} else {
			rend = progress.NewPlain(w)
		}
	}
	if rend == nil && mx == nil {
		return func() {}
	}
	if tick <= 0 {
		tick = 2 * time.Second
	}
	start := time.Now()
	copied := func() int64 {
		st, _ := tracker.ReadStatus(dir, name)
		return st.Counters.CopiedBytes
	}
	base := copied()
	sample := func() progress.Snapshot {
		st, _ := tracker.ReadStatus(dir, name)
		st.Name = name
		mx.ScanFinished(name, st.ScanFinished)
		mx.QueueDepth(name, st.Pending)
		return jobSnapshot(st, dir, time.Since(start))
	}
	if live {
		rend.Update(sample()) // the job's name from the first frame
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				s := sample()
				if rend != nil {
					rend.Update(s)
				}
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
		s := finalSnapshot(sample(), copied()-base)
		if rend == nil {
			return
		}
		// The last state is drawn whatever the renderer: bars and lines
		// end at the job's true totals, without a stale rate or ETA.
		rend.Update(s)
		rend.Close()
	}
}

// finalSnapshot marks a run's last snapshot: its rate is the run's
// average copy rate (copied bytes over the elapsed time), and it has no
// time left.
func finalSnapshot(s progress.Snapshot, copied int64) progress.Snapshot {
	s.Final, s.ETA = true, 0
	s.BytesPerSecond = float64(perSecond(copied, s.Elapsed))
	return s
}
