package local

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// TestFileIdentity: the identity of an untouched file stays the same; a
// rewrite in place with its mtime put back (rsync --inplace) changes it
// (by ctime), and so does a replacement by rename (by inode).
func TestFileIdentity(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no ctime or inode on Windows")
	}
	root := t.TempDir()
	s, err := New(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, "f.bin")
	if err := os.WriteFile(path, []byte("version one"), 0o644); err != nil {
		t.Fatal(err)
	}
	mtime := time.Unix(1_700_000_000, 0)
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	id := func() string {
		t.Helper()
		v, err := s.FileIdentity(t.Context(), "f.bin")
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	first := id()
	if again := id(); again != first {
		t.Fatalf("identity of an untouched file changed: %q then %q", first, again)
	}
	// Wait for the clock that stamps ctime to move on, then rewrite in
	// place, same size, and put the mtime back.
	waitCtimeTick(t, root)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("VERSION TWO"), 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	second := id()
	if second == first {
		t.Fatalf("a rewrite with the mtime put back kept the identity %q", first)
	}
	t.Logf("before %s\nafter  %s", first, second)
	// Replaced by rename: another inode.
	tmp := filepath.Join(root, "new.tmp")
	if err := os.WriteFile(tmp, []byte("VERSION TWO"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(tmp, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	if third := id(); third == second {
		t.Fatalf("a replacement by rename kept the identity %q", second)
	}
}

// waitCtimeTick waits until a new file's ctime differs from that of one
// made before, so that a change made now gets a ctime of its own.
func waitCtimeTick(t *testing.T, dir string) {
	t.Helper()
	s, _ := New(dir, Options{})
	mark := func(name string) string {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		v, err := s.FileIdentity(t.Context(), name)
		if err != nil {
			t.Fatal(err)
		}
		return v[len("size 0, mtime 2006-01-02T15:04:05.000000000Z, "):]
	}
	before := mark(".tick-a")
	deadline := time.Now().Add(5 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		if mark(".tick-b")[:len("ctime 2006-01-02T15:04:05.000000000Z")] != before[:len("ctime 2006-01-02T15:04:05.000000000Z")] {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("the ctime clock did not move within 5s")
}
