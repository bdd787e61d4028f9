package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"

	"github.com/ossimport/ossimport/internal/storage"
)

// Stat implements storage.Reader. It reads no file contents, so the
// result carries no checksums. A directory, socket, FIFO or device, or a
// link to one, is not an object: Stat reports it as missing.
func (s *Store) Stat(ctx context.Context, key string) (storage.ObjectInfo, error) {
	if err := checkKey("stat", key); err != nil {
		return storage.ObjectInfo{}, err
	}
	if err := ctx.Err(); err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("stat %q: %w", key, err)
	}
	return s.objectInfo(key)
}

// objectInfo describes the file at key, following a symbolic link to a
// file. A broken link is described with IsSymlink, size 0 and the link's
// own mtime.
func (s *Store) objectInfo(key string) (storage.ObjectInfo, error) {
	path := s.path(key)
	li, err := os.Lstat(path)
	if err != nil {
		return storage.ObjectInfo{}, mapErr("stat", key, err)
	}
	info := storage.ObjectInfo{Key: key, Size: li.Size(), ModTime: li.ModTime()}
	switch {
	case li.Mode().IsRegular():
		return info, nil
	case li.Mode()&fs.ModeSymlink == 0:
		return info, notObject("stat", key, li.Mode())
	}
	info.IsSymlink = true
	ti, err := os.Stat(path)
	if err != nil {
		// Missing or unreachable target, or a loop: listed so the engine
		// can report it; Open says why it cannot be read.
		info.Size = 0
		return info, nil
	}
	if !ti.Mode().IsRegular() {
		return info, notObject("stat", key, ti.Mode())
	}
	info.Size, info.ModTime = ti.Size(), ti.ModTime()
	return info, nil
}

// notObject is the error for a key naming something other than a file:
// storage.ErrNotExist for a directory (reached through a link), else
// storage.ErrNotRegular naming the kind of special file.
func notObject(op, key string, mode fs.FileMode) error {
	if mode.IsDir() {
		return fmt.Errorf("%s %q: %w: it is a directory, not a regular file", op, key, storage.ErrNotExist)
	}
	kind := "special file"
	switch {
	case mode&fs.ModeNamedPipe != 0:
		kind = "named pipe"
	case mode&fs.ModeSocket != 0:
		kind = "socket"
	case mode&fs.ModeDevice != 0:
		kind = "device"
	}
	return fmt.Errorf("%s %q: %w: %s", op, key, storage.ErrNotRegular, kind)
}

// Open implements storage.Reader. It reads length bytes from offset
// (length < 0: to the end; a range past the end is cut at the end).
func (s *Store) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := checkKey("open", key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("open %q: %w", key, err)
	}
	if offset < 0 {
		return nil, fmt.Errorf("open %q: negative offset %d", key, offset)
	}
	if err := s.checkReadable(key); err != nil {
		return nil, err
	}
	f, err := os.Open(s.path(key))
	if err != nil {
		return nil, mapErr("open", key, err)
	}
	fi, err := f.Stat()
	switch {
	case err != nil:
		err = mapErr("open", key, err)
	case !fi.Mode().IsRegular():
		err = notObject("open", key, fi.Mode())
	case offset > fi.Size():
		err = fmt.Errorf("open %q: offset %d is past the end (%d bytes)", key, offset, fi.Size())
	}
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	if length < 0 || length > fi.Size()-offset {
		length = fi.Size() - offset
	}
	return &fileReader{ctx: ctx, r: io.NewSectionReader(f, offset, length), f: f}, nil
}

// checkReadable makes sure key names a regular file, or a link to one that
// the store may read, before it is opened (opening a FIFO would block).
func (s *Store) checkReadable(key string) error {
	path := s.path(key)
	li, err := os.Lstat(path)
	if err != nil {
		return mapErr("open", key, err)
	}
	if li.Mode().IsRegular() {
		return nil
	}
	if li.Mode()&fs.ModeSymlink == 0 {
		return notObject("open", key, li.Mode())
	}
	if !s.opts.AllowSymlinks {
		return fmt.Errorf("open %q: %w: it is a symbolic link and symbolic links are not allowed (isAllowSymbolicLink=false)",
			key, storage.ErrNotSupported)
	}
	ti, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.ENOTDIR):
		// Not wrapped with %w: the link exists, its target does not.
		return fmt.Errorf("open %q: %w: %v", key, ErrBrokenSymlink, err)
	case err != nil:
		return mapErr("open", key, err)
	case !ti.Mode().IsRegular():
		return notObject("open", key, ti.Mode())
	}
	return nil
}

// fileReader reads a section of an open file and stops when its context
// is cancelled.
type fileReader struct {
	ctx context.Context
	r   *io.SectionReader
	f   *os.File
}

func (fr *fileReader) Read(p []byte) (int, error) {
	if err := fr.ctx.Err(); err != nil {
		return 0, err
	}
	return fr.r.Read(p)
}

func (fr *fileReader) Close() error { return fr.f.Close() }
