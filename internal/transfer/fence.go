package transfer

import (
	"context"
	"errors"
	"fmt"

	"github.com/ossimport/ossimport/internal/storage"
)

// ErrFenced means this copy no longer owns its object: its task was
// handed to another worker (its delivery was superseded) or its job was
// cleaned. The copy stops without writing again; see Options.Fence.
var ErrFenced = errors.New("another delivery of the task owns this object now")

// fence asks Options.Fence whether obj may still be written.
func (c *Copier) fence(ctx context.Context, obj Object) error {
	if c.opts.Fence == nil {
		return nil
	}
	if err := c.opts.Fence(ctx, obj); err != nil {
		return fmt.Errorf("write %q: %w", obj.Dst(), err)
	}
	return nil
}

// Fenced reports whether r is an object given up because its copy lost
// ownership of it (Options.Fence): no result of its task is to be
// reported by this copy.
func Fenced(r Result) bool { return errors.Is(r.Err, ErrFenced) }

// AbortUpload aborts the multipart upload id of obj at the destination;
// for an owner that lost an object and finds that the new owner does not
// hold its upload (see Options.Fence).
func (c *Copier) AbortUpload(ctx context.Context, obj Object, id string) error {
	mpw, ok := c.dst.(storage.MultipartWriter)
	if !ok || id == "" {
		return nil
	}
	if err := mpw.AbortMultipart(ctx, obj.Dst(), id); err != nil {
		return fmt.Errorf("abort the upload of %q: %w", obj.Dst(), err)
	}
	return nil
}
