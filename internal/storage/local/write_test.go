package local

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"hash/crc64"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/storage"
)

func bytesReader(s string) io.Reader { return strings.NewReader(s) }

// leftovers returns every path under root, to check that failed writes
// leave nothing behind.
func leftovers(t *testing.T, root string) []string {
	t.Helper()
	var paths []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if p != root && !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			paths = append(paths, filepath.ToSlash(rel))
		}
		return nil
	})
	return paths
}

// failingReader returns n bytes and then an error.
type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, errors.New("source went away")
	}
	k := min(len(p), r.n)
	r.n -= k
	return k, nil
}

func TestPutFailuresLeaveNothing(t *testing.T) {
	data := strings.Repeat("x", 100_000)
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	cases := []struct {
		name string
		ctx  context.Context
		r    io.Reader
		size int64
		is   error
	}{
		{"failing reader", t.Context(), &failingReader{n: 70_000}, 100_000, nil},
		{"short reader", t.Context(), bytesReader(data[:1000]), 100_000, io.ErrUnexpectedEOF},
		{"long reader", t.Context(), bytesReader(data), 99_999, nil},
		{"cancelled", cancelled, bytesReader(data), 100_000, context.Canceled},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			st := newStore(t, root, Options{})
			_, err := st.Put(c.ctx, "dir/obj", c.r, c.size, storage.Metadata{})
			if err == nil || (c.is != nil && !errors.Is(err, c.is)) {
				t.Fatalf("put: err %v, want an error wrapping %v", err, c.is)
			}
			if left := leftovers(t, root); len(left) != 0 {
				t.Fatalf("files left behind: %q", left)
			}
		})
	}
	// A failed overwrite keeps the old file.
	root := t.TempDir()
	st := newStore(t, root, Options{})
	if _, err := st.Put(t.Context(), "keep", bytesReader("old"), 3, storage.Metadata{}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Put(t.Context(), "keep", &failingReader{n: 2}, 3, storage.Metadata{}); err == nil {
		t.Fatal("put from a failing reader succeeded")
	}
	if got := readAll(t, st, "keep"); got != "old" {
		t.Fatalf("after a failed overwrite read %q, want old", got)
	}
}

func TestPutChecksumsAndModTime(t *testing.T) {
	st := newStore(t, t.TempDir(), Options{})
	data := strings.Repeat("checksum ", 10_000)
	meta := storage.Metadata{User: map[string]string{storage.ModTimeMetaKey: "1700000000"}}
	res, err := st.Put(t.Context(), "a/b/c.txt", bytesReader(data), int64(len(data)), meta)
	if err != nil {
		t.Fatal(err)
	}
	checkSums(t, "put", res.Checksums, data)
	info, err := st.Stat(t.Context(), "a/b/c.txt")
	if err != nil {
		t.Fatal(err)
	}
	if !info.ModTime.Equal(time.Unix(1700000000, 0)) || info.Size != int64(len(data)) {
		t.Errorf("stat = size %d mtime %v, want %d and 2023-11-14", info.Size, info.ModTime, len(data))
	}
	bad := storage.Metadata{User: map[string]string{storage.ModTimeMetaKey: "yesterday"}}
	if _, err := st.Put(t.Context(), "d", bytesReader("x"), 1, bad); err != nil {
		t.Fatal(err)
	}
	if info, _ := st.Stat(t.Context(), "d"); time.Since(info.ModTime) > time.Hour {
		t.Errorf("an unparsable mtime was applied: %v", info.ModTime)
	}
	// A copy between local stores keeps the source mtime.
	dst := newStore(t, t.TempDir(), Options{})
	res, err = dst.CopyFrom(t.Context(), "copy", st, "a/b/c.txt", info, info.Meta)
	if err != nil {
		t.Fatal(err)
	}
	checkSums(t, "copy", res.Checksums, data)
	if got, _ := dst.Stat(t.Context(), "copy"); !got.ModTime.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("copied mtime %v", got.ModTime)
	}
}

func checkSums(t *testing.T, what string, got storage.Checksums, data string) {
	t.Helper()
	sum := md5.Sum([]byte(data))
	crc := crc64.Checksum([]byte(data), crc64.MakeTable(crc64.ECMA))
	if !got.HasCRC64 || got.CRC64 != crc || !bytes.Equal(got.MD5, sum[:]) {
		t.Errorf("%s checksums = %x/%v/%x, want %x/true/%x", what, got.CRC64, got.HasCRC64, got.MD5, crc, sum)
	}
}

func TestInvalidKeys(t *testing.T) {
	parent := t.TempDir()
	root := filepath.Join(parent, "root")
	st := newStore(t, root, Options{})
	ctx := t.Context()
	keys := []string{
		"", "/abs", "../x", "..", ".", "a/../../x", "a/./b", "a//b", "dir/", "nul\x00byte",
		".ossimport-multipart/x", "d/.ossimport-tmp-1",
	}
	for _, key := range keys {
		ops := map[string]error{}
		_, ops["put"] = st.Put(ctx, key, bytesReader("x"), 1, storage.Metadata{})
		_, ops["stat"] = st.Stat(ctx, key)
		_, ops["open"] = st.Open(ctx, key, 0, -1)
		ops["delete"] = st.Delete(ctx, key)
		_, ops["create multipart"] = st.CreateMultipart(ctx, key, storage.Metadata{})
		_, ops["copy"] = st.CopyFrom(ctx, key, st, "x", storage.ObjectInfo{}, storage.Metadata{})
		for op, err := range ops {
			if !errors.Is(err, storage.ErrInvalidKey) {
				t.Errorf("%s %q: err %v, want ErrInvalidKey", op, key, err)
			}
		}
	}
	if left := leftovers(t, parent); len(left) != 0 {
		t.Fatalf("invalid keys wrote %q", left)
	}
}

func TestDeletePrunesEmptyDirectories(t *testing.T) {
	root := t.TempDir()
	st := newStore(t, root, Options{})
	ctx := t.Context()
	makeFiles(t, root, "a/b/c/f", "a/g")
	if err := st.Delete(ctx, "a/b"); err != nil {
		t.Fatalf("delete a directory key: %v", err)
	}
	if err := st.Delete(ctx, "a/b/c/f"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "a", "b")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a/b still there: %v", err)
	}
	if err := st.Delete(ctx, "a/g"); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(root)
	if err != nil || len(entries) != 0 {
		t.Fatalf("root after deleting everything: %v, %v; want it empty and present", entries, err)
	}
	for _, key := range []string{"a/g", "never/was", "a.txt/below-a-file"} {
		if err := st.Delete(ctx, key); err != nil {
			t.Errorf("delete missing %q: %v", key, err)
		}
	}
}

func TestPutUnderAFile(t *testing.T) {
	st := newStore(t, t.TempDir(), Options{})
	if _, err := st.Put(t.Context(), "f", bytesReader("file"), 4, storage.Metadata{}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Put(t.Context(), "f/x", bytesReader("x"), 1, storage.Metadata{}); err == nil {
		t.Fatal("put under a file succeeded")
	}
	if _, err := st.Stat(t.Context(), "f/x"); !errors.Is(err, storage.ErrNotExist) {
		t.Errorf("stat under a file: err %v, want ErrNotExist", err)
	}
	if got := readAll(t, st, "f"); got != "file" {
		t.Errorf("f = %q", got)
	}
}

func TestOpenRanges(t *testing.T) {
	st := newStore(t, t.TempDir(), Options{})
	if _, err := st.Put(t.Context(), "r", bytesReader("0123456789"), 10, storage.Metadata{}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		off, n int64
		want   string
	}{{0, -1, "0123456789"}, {3, 4, "3456"}, {8, 100, "89"}, {10, -1, ""}, {10, 5, ""}}
	for _, c := range cases {
		rc, err := st.Open(t.Context(), "r", c.off, c.n)
		if err != nil {
			t.Fatalf("open [%d,+%d): %v", c.off, c.n, err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if string(b) != c.want {
			t.Errorf("open [%d,+%d) = %q, want %q", c.off, c.n, b, c.want)
		}
	}
	for _, off := range []int64{-1, 11} {
		if _, err := st.Open(t.Context(), "r", off, -1); err == nil {
			t.Errorf("open at offset %d succeeded", off)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	rc, err := st.Open(ctx, "r", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	cancel()
	if _, err := io.ReadAll(rc); !errors.Is(err, context.Canceled) {
		t.Errorf("read after cancel: err %v, want context.Canceled", err)
	}
}

func TestStoreBasics(t *testing.T) {
	if _, err := New("relative/root", Options{}); err == nil {
		t.Error("a relative root was accepted")
	}
	st, err := storage.OpenDestination(t.Context(), storage.Spec{Type: "local", Bucket: "/data/src/", AllowSymlinks: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := st.String(); got != "local:/data/src/" {
		t.Errorf("String() = %q", got)
	}
	if !st.(*Store).opts.AllowSymlinks {
		t.Error("Spec.AllowSymlinks was not passed on")
	}
	c := st.Capabilities()
	if !c.CanList || !c.CanWrite || !c.RangedRead || !c.Multipart || !c.ServerSideCopy || !c.PreservesModTime || c.CRC64 || c.MD5 {
		t.Errorf("capabilities %+v", c)
	}
}
