package transfer

import (
	"context"
	"fmt"
	"strings"
)

// DirMarkerPolicy says what happens to directory markers: zero-byte
// objects whose key ends in "/".
type DirMarkerPolicy string

// The directory-marker policies.
const (
	// DirMarkersAuto copies markers when both stores keep them as
	// objects (object store to object store, Capabilities.DirMarkers)
	// and reports them Skipped otherwise.
	DirMarkersAuto DirMarkerPolicy = ""
	// DirMarkersCopy copies markers wherever the destination accepts
	// them; one it refuses is reported as a failure.
	DirMarkersCopy DirMarkerPolicy = "copy"
	// DirMarkersSkip reports every marker Skipped.
	DirMarkersSkip DirMarkerPolicy = "skip"
)

// IsDirKey reports whether key names a directory: it ends in "/".
func IsDirKey(key string) bool { return strings.HasSuffix(key, "/") }

// dirMarker decides what to do with obj when its key ends in "/". It
// returns done with a Skipped result for a zero-byte marker that is not
// copied, and done=false for a marker to copy or a "/" key holding data,
// which is copied like any object (or fails and is reported): such keys
// are never dropped.
func (c *Copier) dirMarker(ctx context.Context, obj Object) (Result, bool) {
	size := obj.Size
	if size < 0 { // unknown when planned (URL lists): ask the source
		info, err := c.src.Stat(ctx, obj.Key)
		if err != nil {
			return Result{}, false // the copy attempt reports it
		}
		size = info.Size
	}
	if size != 0 {
		return Result{}, false
	}
	why := c.markerSkipReason()
	if why == "" {
		return Result{}, false
	}
	return Result{Code: Skipped, Size: 0, Detail: "directory marker (zero-byte key ending in /) not copied: " + why}, true
}

// markerSkipReason says why zero-byte directory markers are not copied,
// "" when they are.
func (c *Copier) markerSkipReason() string {
	switch c.opts.DirMarkers {
	case DirMarkersSkip:
		return "the job skips directory markers"
	case DirMarkersAuto:
		switch {
		case !c.src.Capabilities().DirMarkers:
			return fmt.Sprintf("%s has no directory-marker objects", c.src)
		case !c.dst.Capabilities().DirMarkers:
			return fmt.Sprintf("%s keeps no directory-marker objects", c.dst)
		}
	}
	return ""
}
