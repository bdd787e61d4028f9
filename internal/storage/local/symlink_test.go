package local

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
)

// symlinkTree builds a root with every kind of link and returns it. It
// skips the test where symbolic links cannot be made.
func symlinkTree(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	outside := filepath.Join(t.TempDir(), "outside.txt")
	if err := os.WriteFile(outside, []byte("outside!"), 0o644); err != nil {
		t.Fatal(err)
	}
	makeFiles(t, root, "file", "dir/x")
	links := map[string]string{
		"link-file":   "file",
		"link-abs":    outside,
		"link-dir":    "dir",
		"link-broken": "nowhere",
		"loop1":       "loop2",
		"loop2":       "loop1",
		"dir/self":    "..",
		"dir/up-file": "../file",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, filepath.FromSlash(name))); err != nil {
			t.Skipf("cannot make symbolic links: %v", err)
		}
	}
	return root
}

func TestSymlinkListing(t *testing.T) {
	root := symlinkTree(t)
	want := []struct {
		key  string
		size int64
		link bool
	}{
		{"dir/up-file", 4, true},
		{"dir/x", 5, false},
		{"file", 4, false},
		{"link-abs", 8, true},
		{"link-broken", 0, true},
		{"link-file", 4, true},
		{"loop1", 0, true},
		{"loop2", 0, true},
	}
	for _, allow := range []bool{false, true} {
		st := newStore(t, root, Options{AllowSymlinks: allow})
		l := listPages(t, st, storage.ListOptions{Limit: 3}, true)
		if len(l.objects) != len(want) {
			t.Fatalf("allow=%v: listed %q, want %d objects", allow, l.keys, len(want))
		}
		for i, w := range want {
			o := l.objects[i]
			if o.Key != w.key || o.Size != w.size || o.IsSymlink != w.link {
				t.Errorf("allow=%v: object %d = {%q size %d link %v}, want %+v", allow, i, o.Key, o.Size, o.IsSymlink, w)
			}
		}
		d := listPages(t, st, storage.ListOptions{Delimiter: "/"}, false)
		equalStrings(t, "prefixes", d.prefixes, []string{"dir/"})
		p := listPages(t, st, storage.ListOptions{Prefix: "link-dir/"}, false)
		equalStrings(t, "under a directory link", p.keys, nil)
	}
}

func TestSymlinkOpen(t *testing.T) {
	root := symlinkTree(t)
	ctx := t.Context()
	deny := newStore(t, root, Options{})
	allow := newStore(t, root, Options{AllowSymlinks: true})
	if got := readAll(t, deny, "file"); got != "file" {
		t.Errorf("read file = %q", got)
	}
	for _, key := range []string{"link-file", "link-abs", "link-broken"} {
		if _, err := deny.Open(ctx, key, 0, -1); !errors.Is(err, storage.ErrNotSupported) {
			t.Errorf("symlinks denied: open %q: err %v, want ErrNotSupported", key, err)
		}
	}
	if got := readAll(t, allow, "link-file"); got != "file" {
		t.Errorf("read link-file = %q", got)
	}
	if got := readAll(t, allow, "link-abs"); got != "outside!" {
		t.Errorf("read link-abs = %q", got)
	}
	for _, key := range []string{"link-broken", "loop1"} {
		_, err := allow.Open(ctx, key, 0, -1)
		if !errors.Is(err, ErrBrokenSymlink) || errors.Is(err, storage.ErrNotExist) {
			t.Errorf("open %q: err %v, want ErrBrokenSymlink and not ErrNotExist", key, err)
		}
		info, err := allow.Stat(ctx, key)
		if err != nil || !info.IsSymlink || info.Size != 0 {
			t.Errorf("stat %q = %+v, %v; want a symlink of size 0", key, info, err)
		}
	}
	for _, key := range []string{"link-dir", "dir"} {
		if _, err := allow.Stat(ctx, key); !errors.Is(err, storage.ErrNotExist) {
			t.Errorf("stat %q: err %v, want ErrNotExist", key, err)
		}
		if _, err := allow.Open(ctx, key, 0, -1); !errors.Is(err, storage.ErrNotExist) && !errors.Is(err, storage.ErrNotSupported) {
			t.Errorf("open %q: err %v, want ErrNotExist", key, err)
		}
	}
}

func TestPutReplacesSymlinkNotTarget(t *testing.T) {
	root := symlinkTree(t)
	st := newStore(t, root, Options{})
	if _, err := st.Put(t.Context(), "link-file", bytesReader("new"), 3, storage.Metadata{}); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, st, "file"); got != "file" {
		t.Errorf("the link's target was changed to %q", got)
	}
	info, err := st.Stat(t.Context(), "link-file")
	if err != nil || info.IsSymlink || info.Size != 3 {
		t.Errorf("stat link-file after put = %+v, %v; want a 3-byte regular file", info, err)
	}
	if err := st.Delete(t.Context(), "link-broken"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(root, "link-broken")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("broken link not deleted: %v", err)
	}
}

// readAll reads a whole object.
func readAll(t *testing.T, st *Store, key string) string {
	t.Helper()
	rc, err := st.Open(t.Context(), key, 0, -1)
	if err != nil {
		t.Fatalf("open %q: %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %q: %v", key, err)
	}
	return string(b)
}
