// Package logging opens ossimport's log files: a size-rotating file
// writer, a slog handler that masks secrets, and Open, which puts them
// together at the level set in sys.properties.
//
// A log file is rotated when the next record would make it larger than
// its size limit: <name> becomes <name>.1, <name>.1 becomes <name>.2, and
// so on; the oldest one past the number kept is deleted.
package logging

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// RotatingFile is an io.WriteCloser appending to a file that it rotates
// by size. It is safe for concurrent use. Each Write is kept whole in one
// file (a record larger than the limit is cut to the limit), so a
// record never straddles two files.
type RotatingFile struct {
	path     string
	maxSize  int64
	maxFiles int

	mu   sync.Mutex
	f    *os.File
	size int64
}

// OpenRotating opens path for appending (creating it and its folder),
// keeping it at most maxSize bytes and at most maxFiles rotated files
// beside it (<path>.1 is the newest). maxSize <= 0 never rotates;
// maxFiles < 1 keeps one rotated file.
func OpenRotating(path string, maxSize int64, maxFiles int) (*RotatingFile, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create log folder: %w", err)
	}
	r := &RotatingFile{path: path, maxSize: maxSize, maxFiles: max(maxFiles, 1)}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *RotatingFile) open() error {
	f, err := os.OpenFile(r.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open log: %w", err)
	}
	info, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return fmt.Errorf("open log: %w", err)
	}
	r.f, r.size = f, info.Size()
	return nil
}

// Write appends p, rotating the file first when p would not fit.
func (r *RotatingFile) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return 0, os.ErrClosed
	}
	n := len(p)
	if r.maxSize > 0 && int64(len(p)) > r.maxSize {
		// A record larger than a whole file: keep its start.
		cut := make([]byte, 0, r.maxSize)
		cut = append(cut, p[:r.maxSize-1]...)
		cut = append(cut, '\n')
		p = cut
	}
	if r.maxSize > 0 && r.size > 0 && r.size+int64(len(p)) > r.maxSize {
		if err := r.rotate(); err != nil {
			return 0, err
		}
	}
	w, err := r.f.Write(p)
	r.size += int64(w)
	if err != nil {
		return w, fmt.Errorf("write log: %w", err)
	}
	return n, nil
}

// rotate shifts the rotated files up by one, dropping the oldest, moves
// the current file to <path>.1 and opens a new one.
func (r *RotatingFile) rotate() error {
	if err := r.f.Close(); err != nil {
		return fmt.Errorf("rotate log: %w", err)
	}
	r.f = nil
	if err := os.Remove(r.rotated(r.maxFiles)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("rotate log: %w", err)
	}
	for i := r.maxFiles - 1; i >= 1; i-- {
		if err := os.Rename(r.rotated(i), r.rotated(i+1)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("rotate log: %w", err)
		}
	}
	if err := os.Rename(r.path, r.rotated(1)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("rotate log: %w", err)
	}
	return r.open()
}

func (r *RotatingFile) rotated(i int) string { return r.path + "." + strconv.Itoa(i) }

// Close closes the file; later writes fail with os.ErrClosed.
func (r *RotatingFile) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	if err != nil {
		return fmt.Errorf("close log: %w", err)
	}
	return nil
}
