package console

import (
	"io"
	"sync"
	"time"

	"github.com/ossimport/ossimport/internal/metrics"
	"github.com/ossimport/ossimport/internal/progress"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// liveEvery is the most time between two updates of the live bars.
const liveEvery = 500 * time.Millisecond

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
