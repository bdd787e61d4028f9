//go:build linux

package transfer

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/local"
)

// inPlaceRewriter is a local source whose file is rewritten in place
// (same size, other bytes, mtime put back, as rsync --inplace does) when
// a read reaches byte at (once per copy), up to times times; each rewrite makes the
// next version of the content.
type inPlaceRewriter struct {
	*local.Store
	t     *testing.T
	path  string
	at    int64
	times int
	mtime time.Time

	mu       sync.Mutex
	rewrites int
	versions [][]byte // every content the file had, first to last
}

func (r *inPlaceRewriter) Open(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	rc, err := r.Store.Open(ctx, key, off, n)
	if err != nil {
		return nil, err
	}
	// Only the read whose range holds byte at rewrites the file: once
	// per copy of the object.
	holds := off <= r.at && (n < 0 || r.at < off+n)
	return &rewritingReader{ReadCloser: rc, r: r, pos: off, done: !holds}, nil
}

type rewritingReader struct {
	io.ReadCloser
	r    *inPlaceRewriter
	pos  int64
	done bool
}

func (rr *rewritingReader) Read(p []byte) (int, error) {
	if !rr.done && rr.pos >= rr.r.at {
		rr.done = true
		rr.r.rewrite()
	} else if !rr.done && rr.pos+int64(len(p)) > rr.r.at {
		p = p[:rr.r.at-rr.pos]
	}
	n, err := rr.ReadCloser.Read(p)
	rr.pos += int64(n)
	return n, err
}

// rewrite writes the next version over the file, in place, and puts its
// mtime back.
func (r *inPlaceRewriter) rewrite() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rewrites >= r.times {
		return
	}
	r.rewrites++
	waitCtimeTick(r.t, r.path)
	next := bytes.Clone(r.versions[len(r.versions)-1])
	for i := range next {
		next[i] ^= byte(0x5a + r.rewrites)
	}
	f, err := os.OpenFile(r.path, os.O_WRONLY, 0)
	if err != nil {
		r.t.Error(err)
		return
	}
	if _, err := f.WriteAt(next, 0); err != nil {
		r.t.Error(err)
	}
	f.Close()
	if err := os.Chtimes(r.path, r.mtime, r.mtime); err != nil {
		r.t.Error(err)
	}
	r.versions = append(r.versions, next)
}

// waitCtimeTick waits until a change made now gets a ctime later than
// path's: the kernel stamps ctime from a clock that ticks every few
// milliseconds, and a real rewrite comes later than that after the copy
// started.
func waitCtimeTick(t *testing.T, path string) {
	ctime := func(p string) time.Time {
		var st syscall.Stat_t
		if err := syscall.Stat(p, &st); err != nil {
			t.Error(err)
			return time.Time{}
		}
		return time.Unix(st.Ctim.Sec, st.Ctim.Nsec)
	}
	was := ctime(path)
	probe := path + ".tick"
	defer os.Remove(probe)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		if err := os.WriteFile(probe, nil, 0o600); err != nil {
			t.Error(err)
			return
		}
		if ctime(probe).After(was) {
			return
		}
		runtimeYield()
	}
	t.Error("the ctime clock did not move within 5s")
}

func runtimeYield() { time.Sleep(100 * time.Microsecond) }

// tornRig is a local file of 3 parts rewritten in place while it is
// copied to a local destination.
type tornRig struct {
	src    *inPlaceRewriter
	dst    *local.Store
	dstDir string
	obj    Object
}

func newTornRig(t *testing.T, size int, at int64, times int) *tornRig {
	t.Helper()
	srcDir, dstDir := t.TempDir(), t.TempDir()
	data := randomBytes(size, 42)
	path := filepath.Join(srcDir, "big.bin")
	mtime := time.Unix(1_700_000_000, 0)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	ls, err := local.New(srcDir, local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ld, err := local.New(dstDir, local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &tornRig{
		src:    &inPlaceRewriter{Store: ls, t: t, path: path, at: at, times: times, mtime: mtime, versions: [][]byte{data}},
		dst:    ld,
		dstDir: dstDir,
		obj:    Object{Key: "big.bin", Size: int64(size), ModTime: mtime},
	}
}

func (r *tornRig) copy(t *testing.T, partSize int64) Result {
	t.Helper()
	opts := testOptions()
	opts.MultipartThreshold, opts.PartSize, opts.PartConcurrency = 2*partSize, partSize, 1
	return newCopier(t, r.dst, r.src, opts).Copy(t.Context(), r.obj)
}

// unfinishedUploads lists the multipart uploads left at the local
// destination.
func (r *tornRig) unfinishedUploads(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(r.dstDir, ".ossimport-multipart"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func (r *tornRig) stored(t *testing.T) ([]byte, bool) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(r.dstDir, "big.bin"))
	if os.IsNotExist(err) {
		return nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return data, true
}

// TestTornMultipartRecopied: a file rewritten in place between its
// parts, mtime put back, is not completed as a mix: the upload is
// aborted and the object copied again, whole, from the version it
// settled on.
func TestTornMultipartRecopied(t *testing.T) {
	const part = 64 << 10
	r := newTornRig(t, 3*part, part, 1)
	res := r.copy(t, part)
	if res.Code != Succeed || res.Strategy != "multipart" {
		t.Fatalf("copy = %s via %q: %s", res.Code, res.Strategy, res.Detail)
	}
	if r.src.rewrites != 1 || res.Attempts != 2 {
		t.Fatalf("%d rewrites, %d attempts; want 1 rewrite and the object copied twice", r.src.rewrites, res.Attempts)
	}
	got, ok := r.stored(t)
	if !ok || !bytes.Equal(got, r.src.versions[1]) {
		t.Fatalf("the destination holds %d bytes equal to the new version: %v (to the old: %v)", len(got),
			bytes.Equal(got, r.src.versions[1]), bytes.Equal(got, r.src.versions[0]))
	}
	if left := r.unfinishedUploads(t); len(left) > 0 {
		t.Fatalf("unfinished uploads left: %v", left)
	}
}

// TestTornKeepsChanging: a file rewritten during every copy is reported
// SIZE_NOT_MATCH after MaxRecopies copies, nothing mixed is completed,
// no upload is left, and the report says what the destination holds:
// nothing, or the version it held before (untouched).
func TestTornKeepsChanging(t *testing.T) {
	const part = 64 << 10
	for _, tc := range []struct {
		name     string
		size     int
		previous []byte
		holds    string
	}{
		{"multipart-new", 3 * part, nil, "the destination holds nothing"},
		{"multipart-previous", 3 * part, []byte("an older version"), "keeps the version"},
		{"put-new", part, nil, "the destination holds nothing"},
		{"put-previous", part, []byte("an older version"), "keeps the version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newTornRig(t, tc.size, part/2, MaxRecopies+1)
			if tc.previous != nil {
				if _, err := r.dst.Put(t.Context(), "big.bin", bytes.NewReader(tc.previous), int64(len(tc.previous)), storage.Metadata{}); err != nil {
					t.Fatal(err)
				}
			}
			res := r.copy(t, part)
			t.Log(res.Detail, res.Attempts, r.src.rewrites)
			if res.Code != SizeNotMatch || !strings.Contains(res.Detail, "changed while it was copied") || !strings.Contains(res.Detail, tc.holds) {
				t.Fatalf("copy = %s %q; want SIZE_NOT_MATCH saying %q", res.Code, res.Detail, tc.holds)
			}
			if r.src.rewrites != MaxRecopies+1 || res.Attempts != MaxRecopies+1 {
				t.Fatalf("%d rewrites, %d attempts; want %d of each", r.src.rewrites, res.Attempts, MaxRecopies+1)
			}
			got, ok := r.stored(t)
			switch {
			case tc.previous == nil && ok:
				t.Fatalf("the destination holds %d bytes, want nothing", len(got))
			case tc.previous != nil && !bytes.Equal(got, tc.previous):
				t.Fatalf("the destination's previous version was replaced by %d bytes", len(got))
			}
			if left := r.unfinishedUploads(t); len(left) > 0 {
				t.Fatalf("unfinished uploads left: %v", left)
			}
		})
	}
}
