package transfer

import "context"

// Exists reports whether the destination already holds obj as a copy
// would find it with SkipExisting set (same size and source mtime), and
// why: what a dry run reports as skipped. It makes one HEAD request.
func (c *Copier) Exists(ctx context.Context, obj Object) (bool, string) {
	return c.exists(ctx, obj)
}
