package local

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc64"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/ossimport/ossimport/internal/storage"
)

// Put implements storage.Writer. It writes exactly size bytes from r to a
// temporary file beside the target, syncs it, sets its mtime from
// meta.User[storage.ModTimeMetaKey] and renames it over the target. A
// reader with fewer or more bytes than size fails the write and leaves no
// file behind. Other metadata is not kept.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64, meta storage.Metadata) (storage.PutResult, error) {
	if err := checkKey("put", key); err != nil {
		return storage.PutResult{}, err
	}
	if size < 0 {
		return storage.PutResult{}, fmt.Errorf("put %q: negative size %d", key, size)
	}
	if err := ctx.Err(); err != nil {
		return storage.PutResult{}, fmt.Errorf("put %q: %w", key, err)
	}
	path := s.path(key)
	tmp, sums, err := writeTemp(ctx, filepath.Dir(path), r, size, true)
	if err != nil {
		return storage.PutResult{}, mapErr("put", key, err)
	}
	if err := commit(tmp, path, mtimeFrom(meta)); err != nil {
		return storage.PutResult{}, mapErr("put", key, err)
	}
	return storage.PutResult{Checksums: sums}, nil
}

// Delete implements storage.Writer. It removes the file (or link) at key
// and then the directories that become empty, up to the root. A missing
// key, or one naming a directory, is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := checkKey("delete", key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete %q: %w", key, err)
	}
	path := s.path(key)
	li, err := os.Lstat(path)
	if err == nil && li.IsDir() {
		return nil
	}
	if err == nil {
		err = os.Remove(path)
	}
	if err != nil {
		if err = mapErr("delete", key, err); errors.Is(err, storage.ErrNotExist) {
			return nil
		}
		return err
	}
	s.pruneDirs(filepath.Dir(path))
	return nil
}

// pruneDirs removes dir and its parents while they are empty, stopping
// below the root.
func (s *Store) pruneDirs(dir string) {
	for len(dir) > len(s.root) && dir != s.root {
		if os.Remove(dir) != nil {
			return
		}
		dir = filepath.Dir(dir)
	}
}

// CopyFrom implements storage.ServerSideCopier for a source that is also a
// local store (any root): the file is copied and keeps its mtime; files
// have no other metadata, so meta is not used. Any other source yields
// storage.ErrNotSupported.
func (s *Store) CopyFrom(ctx context.Context, dstKey string, src storage.Store, srcKey string, _ storage.ObjectInfo, _ storage.Metadata) (storage.PutResult, error) {
	from, ok := src.(*Store)
	if !ok {
		return storage.PutResult{}, fmt.Errorf("copy %q to %q: %w: %s is not a local store", srcKey, dstKey, storage.ErrNotSupported, src)
	}
	if err := checkKey("copy to", dstKey); err != nil {
		return storage.PutResult{}, err
	}
	info, err := from.Stat(ctx, srcKey)
	if err != nil {
		return storage.PutResult{}, err
	}
	rc, err := from.Open(ctx, srcKey, 0, -1)
	if err != nil {
		return storage.PutResult{}, err
	}
	defer rc.Close()
	path := s.path(dstKey)
	tmp, sums, err := writeTemp(ctx, filepath.Dir(path), rc, info.Size, true)
	if err != nil {
		return storage.PutResult{}, mapErr("copy to", dstKey, err)
	}
	if err := commit(tmp, path, info.ModTime); err != nil {
		return storage.PutResult{}, mapErr("copy to", dstKey, err)
	}
	return storage.PutResult{Checksums: sums}, nil
}

// mtimeFrom returns the modification time the engine recorded in meta, or
// the zero time when there is none or it is not an integer.
func mtimeFrom(meta storage.Metadata) time.Time {
	v, ok := meta.User[storage.ModTimeMetaKey]
	if !ok {
		return time.Time{}
	}
	sec, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.Unix(sec, 0)
}

// writeTemp copies exactly size bytes of r into a new, synced temporary
// file in dir (created if needed and mkdir is set) and returns its path and
// checksums. On error nothing is left behind.
func writeTemp(ctx context.Context, dir string, r io.Reader, size int64, mkdir bool) (string, storage.Checksums, error) {
	return fillTemp(dir, mkdir, func(w io.Writer) (storage.Checksums, error) { return copyExact(ctx, w, r, size) })
}

// fillTemp creates a temporary file in dir (created if needed and mkdir
// is set), writes it with fill, syncs and closes it, and returns its path
// and the checksums fill reported. On error nothing is left behind.
func fillTemp(dir string, mkdir bool, fill func(io.Writer) (storage.Checksums, error)) (string, storage.Checksums, error) {
	f, err := createTemp(dir, mkdir)
	if err != nil {
		return "", storage.Checksums{}, err
	}
	sums, err := fill(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return "", storage.Checksums{}, err
	}
	return f.Name(), sums, nil
}

// createTemp creates an empty temporary file in dir. With mkdir it
// creates dir when it is missing (again if a concurrent Delete pruned it
// meanwhile). The file mode is 0666 less the umask, like any new file.
func createTemp(dir string, mkdir bool) (*os.File, error) {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		var f *os.File
		f, err = os.OpenFile(filepath.Join(dir, tmpPrefix+randomHex(8)), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		switch {
		case err == nil:
			return f, nil
		case errors.Is(err, fs.ErrNotExist) && mkdir:
			if merr := os.MkdirAll(dir, 0o777); merr != nil {
				return nil, merr
			}
		case !errors.Is(err, fs.ErrExist):
			return nil, err
		}
	}
	return nil, err
}

// commit sets the temporary file's mtime (unless zero), renames it over
// path and syncs the directory so the rename survives a crash. On error
// the temporary file is removed.
func commit(tmp, path string, mtime time.Time) error {
	var err error
	if !mtime.IsZero() {
		err = os.Chtimes(tmp, time.Time{}, mtime)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	syncDir(filepath.Dir(path))
	return nil
}

// syncDir flushes a directory's entries. File systems that cannot sync a
// directory are not an error: the data itself was synced.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// copyExact copies exactly size bytes from r to w, computing their CRC-64
// and MD5. It fails with io.ErrUnexpectedEOF when r ends early and with an
// error when r has more than size bytes.
func copyExact(ctx context.Context, w io.Writer, r io.Reader, size int64) (storage.Checksums, error) {
	crc, sum := crc64.New(crcTable), md5.New()
	buf := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(buf)
	cr := ctxReader{ctx: ctx, r: r}
	n, err := io.CopyBuffer(io.MultiWriter(w, crc, sum), io.LimitReader(cr, size), *buf)
	if err != nil {
		return storage.Checksums{}, err
	}
	if n < size {
		return storage.Checksums{}, fmt.Errorf("read %d of %d bytes: %w", n, size, io.ErrUnexpectedEOF)
	}
	var one [1]byte
	switch k, err := io.ReadAtLeast(cr, one[:], 1); {
	case k > 0:
		return storage.Checksums{}, fmt.Errorf("the reader has more than the %d bytes announced", size)
	case err != io.EOF:
		return storage.Checksums{}, fmt.Errorf("after %d bytes: %w", size, err)
	}
	return storage.Checksums{CRC64: crc.Sum64(), HasCRC64: true, MD5: sum.Sum(nil)}, nil
}

// ctxReader stops reading when its context is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
