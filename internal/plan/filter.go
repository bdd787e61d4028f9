package plan

import (
	"context"
	"strings"

	"github.com/ossimport/ossimport/internal/storage"
)

// keep applies the job's filters to a listed object; an object dropped
// is reported to Excluded with the reason. Keys ending in "/" (directory
// markers, and "/" keys holding data) are planned like any object, so
// each ends in a report: the worker copies them or reports them Skipped
// with the reason (transfer.Options.DirMarkers). The one exception is the
// marker of the listed prefix itself when it maps to the destination's
// root (destPrefix empty): there is nothing to copy.
func (o *Options) keep(ctx context.Context, info storage.ObjectInfo) bool {
	if info.IsDir && info.Key == o.Prefix && o.DstPrefix == "" && info.Size <= 0 {
		return false
	}
	reason := o.drop(ctx, info)
	if reason != "" && o.Excluded != nil {
		o.Excluded(info, reason)
	}
	return reason == ""
}

// drop returns why the filters drop an object, or "" to keep it.
func (o *Options) drop(ctx context.Context, info storage.ObjectInfo) string {
	if !o.Since.IsZero() && !info.ModTime.After(o.Since) {
		return "importSince"
	}
	if rel := strings.TrimPrefix(info.Key, o.Prefix); o.Keep != nil && !o.Keep(rel, info) {
		if o.KeepReason != nil {
			if why := o.KeepReason(rel, info); why != "" {
				return why
			}
		}
		return "filter"
	}
	if o.Changed != nil && !o.Changed(ctx, info, o.dstKey(info.Key)) {
		return "unchanged"
	}
	return ""
}
