package record

import (
	"strings"

	"github.com/ossimport/ossimport/internal/transfer"
)

// Skip reasons: why an object was skipped, as counted in
// Counters.SkippedBy (short, stable keys for scripts).
const (
	SkipExists      = "exists"      // at the destination already (isSkipExistFile)
	SkipSymlink     = "symlink"     // a symbolic link (isAllowSymbolicLink=false)
	SkipDirMarker   = "dirMarker"   // a zero-byte directory marker not copied
	SkipSpecialFile = "specialFile" // a FIFO, socket or device
	SkipNotAudited  = "modified"    // modified after lastModify, not verified (jobType=audit)
	SkipOther       = "other"
)

// SkipReasons lists the skip reasons in the order summaries print them.
var SkipReasons = []string{SkipExists, SkipSymlink, SkipDirMarker, SkipSpecialFile, SkipNotAudited, SkipOther}

// SkipReason classifies a Skipped result's detail (the copier's message)
// into one of the skip reasons.
func SkipReason(detail string) string {
	switch {
	case strings.Contains(detail, "exists at the destination"):
		return SkipExists
	case strings.HasPrefix(detail, "symbolic link"):
		return SkipSymlink
	case strings.HasPrefix(detail, "directory marker"):
		return SkipDirMarker
	case strings.HasSuffix(detail, "(special files are not copied)"):
		return SkipSpecialFile
	case strings.HasPrefix(detail, "modified after lastModify"):
		return SkipNotAudited
	}
	return SkipOther
}

// AddWhy counts one result like Add, a skipped one under the skip reason
// why (from Finished.Why), or by its detail when why is empty.
func (c *Counters) AddWhy(r transfer.Result, why string) {
	if why == "" {
		why = SkipReason(r.Detail)
	}
	c.add(r, why)
}
