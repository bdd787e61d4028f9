package console

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/ossimport/ossimport/internal/metrics"
	"github.com/ossimport/ossimport/internal/progress"
	"github.com/ossimport/ossimport/internal/runner"
)

// liveEvery is the most time between two updates of the live bars.
const liveEvery = 500 * time.Millisecond

// runSnapshot is a run's summary as a progress snapshot. The rate is the
// run's source read rate, or, when higher (stores whose copies are not
// streamed through this process), the bytes of the objects copied since
// base, a summary taken since seconds earlier.
func runSnapshot(s runner.Summary, base runner.Summary, since time.Duration) progress.Snapshot {
	c := s.Counters
	rate := s.Rate()
	if secs := since.Seconds(); secs > 0 {
		rate = max(rate, float64(c.CopiedBytes-base.Counters.CopiedBytes)/secs)
	}
	snap := progress.Snapshot{
		Job: s.Job, Listed: s.Scan.Listed, ScanFinished: s.ScanFinished,
		Objects: c.Done(), ObjectsTotal: c.Objects,
		Bytes: c.CopiedBytes + c.SkippedBytes, BytesTotal: c.Bytes, BytesPerSecond: rate,
		Failed: c.Failed, Elapsed: s.Elapsed,
		Tasks: progress.Tasks{Pending: s.Tasks.Pending, Running: s.Tasks.Running, Done: s.Tasks.Succeed + s.Tasks.Failed},
	}
	for code, n := range c.ByCode {
		if !code.OK() && n > 0 {
			if snap.FailedBy == nil {
				snap.FailedBy = map[string]int64{}
			}
			snap.FailedBy[string(code)] = n
		}
	}
	return snap
}

// followRun shows the run's progress on w until the returned function is
// called: live bars on a terminal, a line every `every` otherwise (none
// when every <= 0). With metrics, it also keeps the job's scan and queue
// gauges up to date. The returned function draws the final state and
// waits for the display to finish.
func followRun(w io.Writer, r *runner.Runner, mx *metrics.Metrics, every time.Duration) func() {
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
	base, start := r.Summary(), time.Now()
	snapshot := func(s runner.Summary) progress.Snapshot { return runSnapshot(s, base, time.Since(start)) }
	sample := func() runner.Summary {
		s := r.Summary()
		mx.ScanFinished(s.Job, s.ScanFinished)
		mx.QueueDepth(s.Job, s.Tasks.Pending)
		return s
	}
	if live {
		rend.Update(snapshot(base)) // the job's name from the first frame
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
					rend.Update(snapshot(s))
				}
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
		s := sample()
		if rend == nil {
			return
		}
		if live {
			rend.Update(snapshot(s))
		}
		rend.Close()
	}
}

// serveMetrics serves mx on addr until the returned function is
// called (nothing when mx is nil or addr empty). A listen error is a
// warning: metrics are not worth failing the job for.
func serveMetrics(ctx context.Context, stderr io.Writer, log *slog.Logger, mx *metrics.Metrics, addr string) func() {
	if mx == nil || addr == "" {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := mx.Serve(ctx, addr); err != nil {
			log.Warn("cannot serve /metrics", "listen", addr, "err", err)
			fmt.Fprintf(stderr, "warning: cannot serve /metrics on %s: %v\n", addr, err)
		}
	})
	return func() {
		cancel()
		wg.Wait()
	}
}
