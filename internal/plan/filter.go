package plan

import (
	"context"
	"strings"

	"github.com/ossimport/ossimport/internal/storage"
)

// keep applies the job's filters to a listed object. Keys ending in "/"
// (directory markers, and "/" keys holding data) are planned like any
// object, so each ends in a report: the worker copies them or reports
// them Skipped with the reason (transfer.Options.DirMarkers). The one
// exception is the marker of the listed prefix itself when it maps to
// the destination's root (destPrefix empty): there is nothing to copy.
func (o *Options) keep(ctx context.Context, info storage.ObjectInfo) bool {
	if info.IsDir && info.Key == o.Prefix && o.DstPrefix == "" && info.Size <= 0 {
		return false
	}
	if !o.Since.IsZero() && !info.ModTime.After(o.Since) {
		return false
	}
	if o.Keep != nil && !o.Keep(strings.TrimPrefix(info.Key, o.Prefix), info) {
		return false
	}
	return o.Changed == nil || o.Changed(ctx, info, o.dstKey(info.Key))
}
