package progress

import (
	"fmt"
	"io"
	"sync"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// Plain prints one Line per Update.
type Plain struct {
	mu     sync.Mutex
	w      io.Writer
	closed bool
}

// NewPlain returns a renderer printing lines to w.
func NewPlain(w io.Writer) *Plain { return &Plain{w: w} }

// Update prints the snapshot's line.
func (p *Plain) Update(s Snapshot) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		_, _ = fmt.Fprintln(p.w, Line(s))
	}
}

// Close stops printing.
func (p *Plain) Close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
}

// spinnerFrames animate the scan while it runs (ASCII, for any terminal).
var spinnerFrames = []string{"|", "/", "-", `\`}

// Terminal draws live bars with mpb, redrawn in place:
//
//	scan     | scanning, 1200 listed
//	objects  [=====>---------------] 300/1200
//	bytes    [====>----------------] 1.2 GiB/5.0 GiB  25.0 MiB/s  ETA 2m35s
//	failures failed 2 (SourceNotFound 2)
type Terminal struct {
	p *mpb.Progress

	mu     sync.Mutex
	last   Snapshot
	frame  int
	closed bool
	scan   *mpb.Bar
	bars   []*mpb.Bar // objects, bytes
	fail   *mpb.Bar
}

// NewTerminal returns a renderer drawing bars on w, width columns wide
// (0: the terminal's width).
func NewTerminal(w io.Writer, width int) *Terminal {
	t := &Terminal{}
	opts := []mpb.ContainerOption{mpb.WithOutput(w), mpb.WithAutoRefresh()}
	if width > 0 {
		opts = append(opts, mpb.WithWidth(width))
	}
	t.p = mpb.New(opts...)
	name := func(s string) decor.Decorator { return decor.Name(fmt.Sprintf("%-8s", s), decor.WCSyncSpaceR) }
	text := func(fn func(s Snapshot) string, wc ...decor.WC) decor.Decorator {
		return decor.Any(func(decor.Statistics) string {
			t.mu.Lock()
			defer t.mu.Unlock()
			return fn(t.last)
		}, wc...)
	}
	t.scan = t.add(mpb.NopStyle(), mpb.PrependDecorators(name("scan"), text(func(s Snapshot) string {
		frame := "*"
		if !s.ScanFinished {
			frame = spinnerFrames[t.frame%len(spinnerFrames)]
			t.frame++
		}
		job := ""
		if s.Job != "" {
			job = s.Job + ": "
		}
		return fmt.Sprintf("%s %s%s", frame, job, s.scanText())
	})))
	objects := t.add(mpb.BarStyle(), mpb.PrependDecorators(name("objects")), mpb.AppendDecorators(text(func(s Snapshot) string {
		return fmt.Sprintf("%d/%d", s.Objects, s.ObjectsTotal)
	}, decor.WCSyncWidthR)))
	bytes := t.add(mpb.BarStyle(), mpb.PrependDecorators(name("bytes")), mpb.AppendDecorators(text(func(s Snapshot) string {
		return fmt.Sprintf("%s/%s  %s/s  ETA %s", Bytes(s.Bytes), Bytes(s.BytesTotal), Bytes(int64(s.BytesPerSecond)), s.etaText())
	}, decor.WCSyncWidthR)))
	t.fail = t.add(mpb.NopStyle(), mpb.PrependDecorators(name("failures"), text(Snapshot.failedText)))
	for _, b := range []*mpb.Bar{objects, bytes} {
		if b != nil {
			t.bars = append(t.bars, b)
		}
	}
	return t
}

// add adds a bar that never completes on its own (total 0), or returns
// nil if the container is already gone.
func (t *Terminal) add(style mpb.BarFillerBuilder, opts ...mpb.BarOption) *mpb.Bar {
	b, err := t.p.Add(0, style.Build(), opts...)
	if err != nil {
		return nil
	}
	return b
}

// Update moves the bars to the snapshot.
func (t *Terminal) Update(s Snapshot) {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	t.last = s
	t.mu.Unlock()
	t.set(s)
}

// set moves the bars; the bars' own goroutines take the values.
func (t *Terminal) set(s Snapshot) {
	values := [][2]int64{{s.Objects, s.ObjectsTotal}, {s.Bytes, s.BytesTotal}}
	for i, b := range t.bars {
		b.SetTotal(max(values[i][1], values[i][0]), false)
		b.SetCurrent(values[i][0])
	}
}

// Close draws the last snapshot and stops the bars: complete when the
// job finished, left as they are otherwise.
func (t *Terminal) Close() {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	t.closed = true
	s := t.last
	t.mu.Unlock()
	finished := s.ScanFinished && s.Objects >= s.ObjectsTotal
	end := func(b *mpb.Bar, complete bool) {
		if b == nil {
			return
		}
		if complete {
			b.SetTotal(-1, true)
		} else {
			b.Abort(false)
		}
	}
	end(t.scan, s.ScanFinished)
	for _, b := range t.bars {
		end(b, finished)
	}
	end(t.fail, finished)
	t.p.Wait()
}
