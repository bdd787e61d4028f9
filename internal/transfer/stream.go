package transfer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"

	"github.com/ossimport/ossimport/internal/storage"
)

// rangeRefused reports whether a failed multipart copy failed because
// the source cannot read from an offset (storage.ErrNotSupported from a
// ranged Open: a server that ignores Range).
func (u *upload) rangeRefused(err error) bool {
	var pe *partError
	return !u.sequential && errors.Is(err, storage.ErrNotSupported) && errors.As(err, &pe) && !pe.upload
}

// stored returns the parts the upload holds: those of an earlier attempt
// and those the last run uploaded, by part number.
func (u *upload) stored() map[int]storage.Part {
	have := maps.Clone(u.have)
	if have == nil {
		have = map[int]storage.Part{}
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, p := range u.parts {
		if p.Number > 0 {
			have[p.Number] = p
		}
	}
	return have
}

// stream reads the whole source in one request, from its start, and
// hands each part to the uploaders as soon as it is read: for sources
// that cannot read from an offset. At most PartConcurrency parts plus
// the one being read are held in memory, in buffers from the Copier's
// Budget, which bounds them over all the files in flight.
func (u *upload) stream(ctx context.Context, next chan<- partJob) error {
	rc, err := u.c.src.Open(ctx, u.obj.Key, 0, -1)
	if err != nil {
		return &partError{err: fmt.Errorf("open source %q: %w", u.obj.Key, err)}
	}
	defer rc.Close()
	for i := range u.count() {
		off := int64(i) * u.partSize
		size := min(u.partSize, u.size-off)
		bufp, err := u.c.bufs.get(ctx, u.partSize)
		if err != nil {
			return err
		}
		sr := newSourceReader(ctx, rc, size, u.c.hashes(), u.c.opts.Bandwidth, u.c.onBytes(u.obj))
		if _, err := io.ReadFull(sr, (*bufp)[:size]); err != nil {
			u.c.bufs.put(u.partSize, bufp)
			if sr.err != nil {
				err = sr.err
			}
			return &partError{err: fmt.Errorf("read source %q at %d: %w", u.obj.Key, off, err)}
		}
		select {
		case next <- partJob{i: i, buf: bufp, sum: sr.partSum()}:
		case <-ctx.Done():
			u.c.bufs.put(u.partSize, bufp)
			return context.Cause(ctx)
		}
	}
	var one [1]byte
	if n, _ := io.ReadFull(rc, one[:]); n > 0 {
		return &partError{err: fmt.Errorf("read source %q: %w", u.obj.Key, errLongSource)}
	}
	return nil
}
