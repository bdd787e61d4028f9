package transfer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ossimport/ossimport/internal/storage"
)

// MaxRecopies is how many times, within one Copy, an object whose source
// changed while it was being copied is copied again before it is
// reported SIZE_NOT_MATCH (a file being written settles; one rewritten
// continuously does not).
const MaxRecopies = 3

// fileIdentifier is implemented by sources whose objects are files that
// can be rewritten in place (local.Store.FileIdentity): a text that
// changes whenever the file's contents may have (size, mtime, ctime,
// inode), even when its mtime was put back.
type fileIdentifier interface {
	FileIdentity(ctx context.Context, key string) (string, error)
}

// sourceVersion returns what identifies the version of a source object
// that can change in place while it is read, taken before the copy reads
// it and again after its last byte was read; "" for sources whose
// objects cannot change in place (object stores), where nothing is
// compared.
func (c *Copier) sourceVersion(ctx context.Context, key string) (string, error) {
	if fi, ok := c.src.(fileIdentifier); ok {
		v, err := fi.FileIdentity(ctx, key)
		if err != nil {
			return "", fmt.Errorf("stat source %q: %w", key, err)
		}
		return v, nil
	}
	if !c.src.Capabilities().InPlaceUpdates {
		return "", nil
	}
	info, err := c.src.Stat(ctx, key)
	if err != nil {
		return "", fmt.Errorf("stat source %q: %w", key, err)
	}
	return fmt.Sprintf("size %d, mtime %s", info.Size, info.ModTime.UTC().Format(time.RFC3339Nano)), nil
}

// sameVersion checks that the source is still the version ver taken
// before it was read ("" checks nothing): an error wrapping a
// *changedError when it is not, or the error of looking.
func (c *Copier) sameVersion(ctx context.Context, key, ver string) error {
	if ver == "" {
		return nil
	}
	now, err := c.sourceVersion(ctx, key)
	if err != nil {
		return err
	}
	if now != ver {
		return &changedError{key: key, before: ver, after: now}
	}
	return nil
}

// changedError means the source changed while it was being read: the
// bytes read may mix two versions, and must not be stored.
type changedError struct{ key, before, after string }

func (e *changedError) Error() string {
	return fmt.Sprintf("source %q changed while it was copied (before: %s; after: %s)", e.key, e.before, e.after)
}

// changedResult is the result of a copy given up because its source
// changed meanwhile; Copy copies such an object again.
func changedResult(err error) Result {
	res := failure(SizeNotMatch, err)
	res.changed = true
	return res
}

// isChanged reports whether err says the source changed while read.
func isChanged(err error) bool {
	var ce *changedError
	return errors.As(err, &ce)
}

// destinationHolds says, for a SIZE_NOT_MATCH report, what the
// destination holds at obj's key: nothing, or the version it held before
// (a copy whose source changed is never completed there).
func (c *Copier) destinationHolds(ctx context.Context, obj Object) string {
	info, err := c.dst.Stat(context.WithoutCancel(ctx), obj.Dst())
	switch {
	case errors.Is(err, storage.ErrNotExist):
		return fmt.Sprintf("the destination holds nothing at %q", obj.Dst())
	case err != nil:
		return fmt.Sprintf("what the destination holds at %q is unknown (%v)", obj.Dst(), err)
	}
	return fmt.Sprintf("the destination keeps the version of %q it held before (%d bytes, modified %s), not a mix",
		obj.Dst(), info.Size, info.ModTime.UTC().Format(time.RFC3339))
}
