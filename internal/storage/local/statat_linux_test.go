package local

import (
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/storage"
)

func openFDs(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(fds)
}

// TestListingLooksFilesUpInTheirDirectory checks what the walk's
// directory-relative lookups (fstatat) report: the sizes and mtimes of a
// tree's files, a link to a file with its target's, a FIFO listed with
// size 0; and that the directories the walk holds open are closed when
// the listing ends, and when the walk cache lets go of a listing left
// half done.
func TestListingLooksFilesUpInTheirDirectory(t *testing.T) {
	root := t.TempDir()
	var keys []string
	for i := range 30 {
		keys = append(keys, fmt.Sprintf("a%d/b%d/f%02d", i%3, i%2, i))
	}
	makeFiles(t, root, keys...)
	mtime := time.Unix(1_600_000_000, 123456789)
	if err := os.Chtimes(root+"/a0/b0/f00", mtime, mtime); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(root+"/a0/b0/f00", root+"/a0/link"); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(root+"/a1/fifo", 0o644); err != nil {
		t.Fatal(err)
	}
	st := newStore(t, root, Options{})
	before := openFDs(t)
	got := map[string]storage.ObjectInfo{}
	opts := storage.ListOptions{Limit: 4}
	for {
		page, err := st.List(t.Context(), opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Objects {
			got[o.Key] = o
		}
		if page.NextToken == "" {
			break
		}
		opts.Token = page.NextToken
	}
	if len(got) != len(keys)+2 {
		t.Fatalf("listed %d objects, want %d", len(got), len(keys)+2)
	}
	for _, k := range keys {
		if got[k].Size != int64(len(k)) {
			t.Errorf("%s: size %d, want %d", k, got[k].Size, len(k))
		}
	}
	if o := got["a0/b0/f00"]; !o.ModTime.Equal(mtime) || o.IsSymlink {
		t.Errorf("a0/b0/f00 listed with mtime %v (link %v), want %v", o.ModTime, o.IsSymlink, mtime)
	}
	if o := got["a0/link"]; !o.IsSymlink || o.Size != int64(len("a0/b0/f00")) || !o.ModTime.Equal(mtime) {
		t.Errorf("the link is listed as %+v, want the target's size and mtime", o)
	}
	if o := got["a1/fifo"]; o.Size != 0 {
		t.Errorf("the FIFO is listed as %+v", o)
	}
	if after := openFDs(t); after != before {
		t.Fatalf("%d descriptors open before the listing, %d after it ended", before, after)
	}
	// Listings left after their first page: the cache keeps a few walks
	// (and their directories) and closes those it lets go.
	for i := range 3 * maxCachedWalks {
		if _, err := st.List(t.Context(), storage.ListOptions{Prefix: fmt.Sprintf("a%d/", i%3), Limit: 1 + i}); err != nil {
			t.Fatal(err)
		}
	}
	if open, most := openFDs(t)-before, maxCachedWalks*2; open > most {
		t.Fatalf("%d directories open for %d cached walks of depth 2", open, maxCachedWalks)
	}
}
