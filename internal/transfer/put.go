package transfer

import (
	"context"
	"errors"
	"fmt"

	"github.com/ossimport/ossimport/internal/storage"
)

// put copies the object with one request, streaming it.
func (c *Copier) put(ctx context.Context, obj Object, info storage.ObjectInfo, ver string) Result {
	var recorded []byte
	if c.opts.RecordMD5 {
		var err error
		if recorded, err = c.sourceMD5(ctx, obj, info.Size); err != nil {
			return readFailure(err)
		}
	}
	meta := c.metadata(obj, info, recorded)
	if err := c.waitRequest(ctx); err != nil {
		return failure(UploadFailed, err)
	}
	if err := c.fence(ctx, obj); err != nil {
		return failure(UploadFailed, err)
	}
	rc, err := c.src.Open(ctx, obj.Key, 0, -1)
	if err != nil {
		return sourceFailure(fmt.Errorf("open source %q: %w", obj.Key, err))
	}
	defer rc.Close()
	// An MD5 read beforehand is the one the upload is checked against:
	// the metadata must describe the bytes stored.
	h, whole := c.putHashes(info.Size)
	if recorded != nil {
		h.md5 = false
	}
	sr := newSourceReader(ctx, rc, info.Size, h, c.opts.Bandwidth, c.onBytes(obj))
	// Checked before the last byte is handed over, so that the PUT fails
	// and stores nothing: a source that changed while it was read (no
	// mixed object), and the ownership of a copy that may have slept
	// through its task being handed on (no stale object).
	sr.last = func() error {
		if err := c.sameVersion(ctx, obj.Key, ver); err != nil {
			return err
		}
		return c.fence(ctx, obj)
	}
	var put storage.PutResult
	if whole {
		put, err = c.putWhole(ctx, obj, sr, info.Size, meta)
	} else {
		put, err = c.dst.Put(ctx, obj.Dst(), checkedBody{sr}, info.Size, meta)
	}
	if errors.Is(sr.err, ErrFenced) {
		return failure(UploadFailed, sr.err)
	}
	if sr.err != nil && (isChanged(sr.err) || ver != "" && errors.Is(sr.err, storage.ErrNotExist)) {
		return sourceFailure(fmt.Errorf("read source %q: %w", obj.Key, sr.err))
	}
	if sr.err != nil {
		if res, changed := c.changedWhileCopying(ctx, obj, info); changed {
			return res
		}
		return readFailure(fmt.Errorf("read source %q: %w", obj.Key, sr.err))
	}
	if err != nil {
		return failure(UploadFailed, fmt.Errorf("upload %q: %w", obj.Dst(), err))
	}
	sums := sr.sums()
	if recorded != nil {
		sums.MD5 = recorded
	}
	res := c.verify(ctx, obj, info.Size, sums, put, "put", "")
	res.Bytes = info.Size
	return res
}

// readFailure classifies an error that happened while reading the source.
func readFailure(err error) Result {
	if errors.Is(err, errShortSource) || errors.Is(err, errLongSource) {
		return failure(SizeNotMatch, fmt.Errorf("%w (the source changed while it was copied)", err))
	}
	return sourceFailure(err)
}

// changedWhileCopying re-checks sources that can change in place.
func (c *Copier) changedWhileCopying(ctx context.Context, obj Object, before storage.ObjectInfo) (Result, bool) {
	if !c.src.Capabilities().InPlaceUpdates {
		return Result{}, false
	}
	after, err := c.src.Stat(ctx, obj.Key)
	if err != nil {
		return sourceFailure(fmt.Errorf("stat source %q after copying: %w", obj.Key, err)), true
	}
	planned := obj
	planned.Size, planned.ModTime = before.Size, before.ModTime
	if what := changedSince(planned, after); what != "" {
		return failure(SizeNotMatch, &sizeMismatchError{key: obj.Key, what: what + " (changed while it was copied)"}), true
	}
	return Result{}, false
}

// sourceMD5 reads the source once to compute its MD5 before uploading,
// for the "md5" metadata (workerRecordMd5), which goes with the upload's
// first request.
func (c *Copier) sourceMD5(ctx context.Context, obj Object, size int64) ([]byte, error) {
	rc, err := c.src.Open(ctx, obj.Key, 0, -1)
	if err != nil {
		return nil, fmt.Errorf("open source %q: %w", obj.Key, err)
	}
	defer rc.Close()
	sr := newSourceReader(ctx, rc, size, hashes{md5: true}, nil, nil)
	if err := sr.drain(); err != nil {
		return nil, fmt.Errorf("read source %q: %w", obj.Key, err)
	}
	return sr.md5Sum(), nil
}

// putWhole reads a small object whole into a buffer of the budget and
// puts it with its CRC-32C (see wholeMax). An error reading the source is
// sr's as well.
func (c *Copier) putWhole(ctx context.Context, obj Object, sr *sourceReader, size int64, meta storage.Metadata) (storage.PutResult, error) {
	n := wholeSize(size)
	buf, err := c.bufs.get(ctx, n)
	if err != nil {
		return storage.PutResult{}, err
	}
	body, err := readWhole(sr, (*buf)[:size])
	if err != nil {
		c.bufs.put(n, buf)
		return storage.PutResult{}, err
	}
	put, err := c.dst.Put(ctx, obj.Dst(), body, size, meta)
	c.bufs.release(n, buf, err)
	return put, err
}
