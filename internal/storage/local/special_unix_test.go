//go:build unix

package local

import (
	"errors"
	"net"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
)

func TestSpecialFilesSkipped(t *testing.T) {
	root := t.TempDir()
	makeFiles(t, root, "a", "z")
	if err := syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Unix socket paths are short: make it relative to the root.
	t.Chdir(root)
	ln, err := net.Listen("unix", "sock")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := syscall.Symlink("fifo", filepath.Join(root, "link-to-fifo")); err != nil {
		t.Fatal(err)
	}
	st := newStore(t, root, Options{AllowSymlinks: true})
	l := listPages(t, st, storage.ListOptions{}, false)
	equalStrings(t, "keys", l.keys, []string{"a", "z"})
	for _, key := range []string{"fifo", "sock", "link-to-fifo"} {
		if _, err := st.Stat(t.Context(), key); !errors.Is(err, storage.ErrNotExist) {
			t.Errorf("stat %q: err %v, want ErrNotExist", key, err)
		}
		// Must fail at once, not block opening the FIFO.
		if _, err := st.Open(t.Context(), key, 0, -1); !errors.Is(err, storage.ErrNotExist) {
			t.Errorf("open %q: err %v, want ErrNotExist", key, err)
		}
	}
}
