package progress

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/testenv"
)

func TestLine(t *testing.T) {
	for _, c := range []struct {
		name string
		s    Snapshot
		want string
	}{
		{"nothing yet", Snapshot{}, "scanning, 0 listed | objects 0/0 | 0 B/0 B | 0 B/s | ETA - | failed 0"},
		{"scanning: no ETA yet", Snapshot{Job: "j1", Listed: 120, Objects: 50, ObjectsTotal: 120, Bytes: 1 << 20, BytesTotal: 3 << 20, BytesPerSecond: 300 << 10, Elapsed: 12400 * time.Millisecond},
			"j1: scanning, 120 listed | objects 50/120 | 1.0 MiB/3.0 MiB | 300.0 KiB/s | ETA - | failed 0 | 12s"},
		{"scan finished: ETA from the rate", Snapshot{Listed: 10, ScanFinished: true, Objects: 4, ObjectsTotal: 10, Bytes: 1 << 20, BytesTotal: 11 << 20, BytesPerSecond: 1 << 20},
			"scan finished, 10 listed | objects 4/10 | 1.0 MiB/11.0 MiB | 1.0 MiB/s | ETA 10s | failed 0"},
		{"given ETA wins", Snapshot{ScanFinished: true, BytesTotal: 100, BytesPerSecond: 1, ETA: 3 * time.Minute},
			"scan finished, 0 listed | objects 0/0 | 0 B/100 B | 1 B/s | ETA 3m0s | failed 0"},
		{"done", Snapshot{Listed: 3, ScanFinished: true, Objects: 3, ObjectsTotal: 3, Bytes: 2048, BytesTotal: 2048},
			"scan finished, 3 listed | objects 3/3 | 2.0 KiB/2.0 KiB | 0 B/s | ETA 0s | failed 0"},
		{"failures by code, biggest first", Snapshot{Listed: 9, ScanFinished: true, Objects: 9, ObjectsTotal: 9, Failed: 5,
			FailedBy: map[string]int64{"UploadFailed": 1, "SourceNotFound": 2, "CheckFailed": 2, "SIZE_NOT_MATCH": 0}},
			"scan finished, 9 listed | objects 9/9 | 0 B/0 B | 0 B/s | ETA - | failed 5 (CheckFailed 2, SourceNotFound 2, UploadFailed 1)"},
		{"tasks", Snapshot{Tasks: Tasks{Pending: 2, Running: 1, Done: 3}},
			"scanning, 0 listed | objects 0/0 | 0 B/0 B | 0 B/s | ETA - | failed 0 | tasks 2 pending 1 running 3 done"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Line(c.s); got != c.want {
				t.Errorf("Line\n got %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestPlainPrintsOneLinePerUpdate(t *testing.T) {
	var buf bytes.Buffer
	p := NewPlain(&buf)
	snaps := []Snapshot{{Job: "a", Listed: 1}, {Job: "a", Listed: 5, ScanFinished: true, Objects: 5, ObjectsTotal: 5}}
	for _, s := range snaps {
		p.Update(s)
	}
	p.Close()
	p.Update(Snapshot{Job: "after close"})
	want := Line(snaps[0]) + "\n" + Line(snaps[1]) + "\n"
	if buf.String() != want {
		t.Fatalf("plain output\n got %q\nwant %q", buf.String(), want)
	}
}

func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 5 << 30: "5.0 GiB", 1 << 62: "4.0 EiB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the renderer's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitGoroutines waits until at most n goroutines run, and says whether
// they did.
func waitGoroutines(n int) bool {
	for range 500 {
		if runtime.NumGoroutine() <= n {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

func TestTerminalDrawsAndClosesWithoutLeaks(t *testing.T) {
	for _, c := range []struct {
		name   string
		snaps  []Snapshot
		want   []string
		update bool // an Update after Close
	}{
		{"finished job", []Snapshot{
			{Job: "j", Listed: 4},
			{Job: "j", Listed: 10, ScanFinished: true, Objects: 10, ObjectsTotal: 10, Bytes: 4096, BytesTotal: 4096, Failed: 1, FailedBy: map[string]int64{"SourceNotFound": 1}},
		}, []string{"j: scan finished, 10 listed", "objects", "10/10", "4.0 KiB/4.0 KiB", "failed 1 (SourceNotFound 1)"}, true},
		{"interrupted job", []Snapshot{
			{Job: "j", Listed: 7, Objects: 2, ObjectsTotal: 7, Bytes: 10, BytesTotal: 70, BytesPerSecond: 5},
		}, []string{"j: scanning, 7 listed", "2/7", "10 B/70 B  5 B/s  ETA -", "failed 0"}, false},
		{"never updated", nil, []string{"scanning, 0 listed"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			var out syncBuffer
			r := NewTerminal(&out, 100)
			for _, s := range c.snaps {
				r.Update(s)
			}
			closed := make(chan struct{})
			go func() { defer close(closed); r.Close() }()
			select {
			case <-closed:
			case <-time.After(testenv.Scale(30 * time.Second)):
				t.Fatal("Close did not return")
			}
			r.Close() // twice is fine
			if c.update {
				r.Update(Snapshot{Job: "late"})
			}
			text := out.String()
			for _, w := range c.want {
				if !strings.Contains(text, w) {
					t.Errorf("no %q in the output:\n%s", w, text)
				}
			}
			if strings.Contains(text, "late") {
				t.Errorf("an update after Close was drawn:\n%s", text)
			}
			if !waitGoroutines(before) {
				t.Errorf("goroutines: %d before, %d after Close", before, runtime.NumGoroutine())
			}
		})
	}
}

func TestScreenRedrawsInPlace(t *testing.T) {
	var buf bytes.Buffer
	s := NewScreen(&buf)
	if err := s.Draw("a\nbb\n"); err != nil {
		t.Fatal(err)
	}
	if err := s.Draw("c"); err != nil {
		t.Fatal(err)
	}
	want := "\x1b[2J\x1b[Ha\x1b[K\nbb\x1b[K\n\x1b[J" + "\x1b[Hc\x1b[K\n\x1b[J"
	if buf.String() != want {
		t.Fatalf("screen output %q, want %q", buf.String(), want)
	}
}

func TestScreenCutsToHeight(t *testing.T) {
	for _, c := range []struct {
		height int
		text   string
		want   []string
	}{
		{0, "1\n2\n3\n4\n5", []string{"1", "2", "3", "4", "5"}},
		{6, "1\n2\n3\n4\n5", []string{"1", "2", "3", "4", "5"}},
		{5, "1\n2\n3\n4\n5", []string{"1", "2", "3", "... 2 more lines"}},
		{3, "1\n2\n3\n4\n5", []string{"1", "... 4 more lines"}},
	} {
		var buf bytes.Buffer
		s := NewScreen(&buf)
		s.Height = c.height
		if err := s.Draw(c.text); err != nil {
			t.Fatal(err)
		}
		got := strings.TrimPrefix(buf.String(), "\x1b[2J\x1b[H")
		got = strings.TrimSuffix(got, "\x1b[K\n\x1b[J")
		if lines := strings.Split(got, "\x1b[K\n"); strings.Join(lines, "|") != strings.Join(c.want, "|") {
			t.Errorf("height %d: lines %q, want %q", c.height, lines, c.want)
		}
	}
}

func TestNewPicksPlainForFilesAndBuffers(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, w := range []io.Writer{f, &bytes.Buffer{}} {
		r := New(w)
		if _, ok := r.(*Plain); !ok {
			t.Errorf("New(%T) = %T, want *Plain", w, r)
		}
		r.Close()
	}
	if IsTerminal(f) || IsTerminal(&bytes.Buffer{}) {
		t.Error("a file or a buffer taken for a terminal")
	}
}

// TestFinalSnapshot: the last snapshot of a run shows no stale time
// left, and the plain renderer prints it, so the output ends at the
// job's true totals.
func TestFinalSnapshot(t *testing.T) {
	running := Snapshot{Job: "j", Listed: 10, ScanFinished: true, Objects: 6, ObjectsTotal: 10, Bytes: 600, BytesTotal: 1000, BytesPerSecond: 50, ETA: 12 * time.Second}
	done := Snapshot{Job: "j", Listed: 10, ScanFinished: true, Objects: 10, ObjectsTotal: 10, Bytes: 1000, BytesTotal: 1000, BytesPerSecond: 100, ETA: 12 * time.Second, Final: true}
	if got := Line(done); !strings.Contains(got, "objects 10/10") || !strings.Contains(got, "ETA 0s") {
		t.Errorf("final line of a finished job: %q", got)
	}
	stopped := running
	stopped.Final = true
	if got := Line(stopped); !strings.Contains(got, "ETA - (stopped)") || strings.Contains(got, "12s") {
		t.Errorf("final line of a stopped run: %q", got)
	}
	var buf bytes.Buffer
	p := NewPlain(&buf)
	p.Update(running)
	p.Update(done)
	p.Close()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if last := lines[len(lines)-1]; last != Line(done) {
		t.Errorf("plain output ends with %q, want the final snapshot %q", last, Line(done))
	}
}
