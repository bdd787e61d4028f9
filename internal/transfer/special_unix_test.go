//go:build unix

package transfer

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/local"
	"github.com/ossimport/ossimport/internal/storage/memory"
)

// TestSpecialFilesReportedSkipped: a FIFO and a unix socket in a local
// source tree are listed and reported as Skipped with the reason, never
// silently dropped, and nothing is written for them; the regular file
// beside them is copied.
func TestSpecialFilesReportedSkipped(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "file"), []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(root) // unix socket paths are short
	ln, err := net.Listen("unix", "sock")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	src, err := local.New(root, local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dst := memory.New("dst")
	c, err := New(dst, src, Options{MultipartThreshold: 1 << 20, PartSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	page, err := src.List(t.Context(), storage.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"fifo": "not a regular file: named pipe", "sock": "not a regular file: socket"}
	seen := 0
	for _, info := range page.Objects {
		res := c.Copy(t.Context(), Object{Key: info.Key, Size: info.Size, ModTime: info.ModTime, IsSymlink: info.IsSymlink})
		reason, special := want[info.Key]
		switch {
		case special:
			seen++
			if res.Code != Skipped || !strings.Contains(res.Detail, reason) {
				t.Errorf("%s: %s %q, want Skipped with %q", info.Key, res.Code, res.Detail, reason)
			}
			if _, err := dst.Stat(t.Context(), info.Key); err == nil {
				t.Errorf("%s was written to the destination", info.Key)
			}
		case res.Code != Succeed:
			t.Errorf("%s: %s %s", info.Key, res.Code, res.Detail)
		}
	}
	if seen != len(want) {
		t.Fatalf("listed %d of the %d special files: %+v", seen, len(want), page.Objects)
	}
}
