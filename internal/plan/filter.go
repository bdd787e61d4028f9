package plan

import (
	"context"
	"strings"

	"github.com/ossimport/ossimport/internal/storage"
)

// keep applies the job's filters to a listed object: directory markers
// never make it into a task.
func (o *Options) keep(ctx context.Context, info storage.ObjectInfo) bool {
	if info.IsDir {
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
