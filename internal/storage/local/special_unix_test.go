//go:build unix

package local

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
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
	// Listed (so that the copy reports them as skipped), never read.
	equalStrings(t, "keys", l.keys, []string{"a", "fifo", "link-to-fifo", "sock", "z"})
	kinds := map[string]string{"fifo": "named pipe", "sock": "socket", "link-to-fifo": "named pipe"}
	for key, kind := range kinds {
		_, err := st.Stat(t.Context(), key)
		if !errors.Is(err, storage.ErrNotRegular) || !strings.Contains(err.Error(), "not a regular file: "+kind) {
			t.Errorf("stat %q: err %v, want ErrNotRegular naming a %s", key, err, kind)
		}
		// Must fail at once, not block opening the FIFO.
		if _, err := st.Open(t.Context(), key, 0, -1); !errors.Is(err, storage.ErrNotRegular) {
			t.Errorf("open %q: err %v, want ErrNotRegular", key, err)
		}
	}
	// A directory holding only special files is a listed prefix.
	if err := os.Mkdir(filepath.Join(root, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(root, "d", "p"), 0o644); err != nil {
		t.Fatal(err)
	}
	l = listPages(t, st, storage.ListOptions{Delimiter: "/"}, false)
	equalStrings(t, "prefixes", l.prefixes, []string{"d/"})
}
