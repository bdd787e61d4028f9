package master

import (
	"context"

	"github.com/ossimport/ossimport/internal/tracker"
)

// RebuildReport says what Rebuild did (tracker.RebuildReport).
type RebuildReport = tracker.RebuildReport

// Rebuild files the jobs' journals into an empty view with the tracker
// (tracker.Rebuild), the previous view moved aside first. The service
// must not run on the working directory (the caller holds its lock).
func Rebuild(ctx context.Context, opts Options) (RebuildReport, error) {
	if err := opts.Validate(); err != nil {
		return RebuildReport{}, err
	}
	return tracker.Rebuild(ctx, opts.trackerOptions())
}
