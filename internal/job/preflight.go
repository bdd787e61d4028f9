package job

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/time/rate"

	"github.com/ossimport/ossimport/internal/storage"
)

// Preflight checks that the source can be listed and the destination
// read, so a wrong endpoint, bucket or key is one clear error before the
// job starts instead of one failure per object.
func Preflight(ctx context.Context, s *Spec, src storage.Source, dst storage.Destination) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if _, err := src.List(ctx, storage.ListOptions{Prefix: s.Plan.Prefix, Limit: 1}); err != nil {
		return fmt.Errorf("%w: cannot list the source %s: %w%s", errPreflight, src, err, hint(err, "src", s.Source.Type))
	}
	if bc, ok := dst.(storage.BucketChecker); ok {
		if err := bc.CheckBucket(ctx); err != nil {
			return fmt.Errorf("%w: the destination %s: %w%s", errPreflight, dst, err, bucketHint(err, s.Dest))
		}
	}
	probe := s.Plan.DstPrefix + ".ossimport-preflight-" + fmt.Sprint(time.Now().UnixNano())
	if _, err := dst.Stat(ctx, probe); err != nil && !errors.Is(err, storage.ErrNotExist) {
		h, ok := destTypeHint(s.Dest)
		if !ok {
			h = hint(err, "dest", s.Dest.Type)
		}
		return fmt.Errorf("%w: cannot reach the destination %s: %w%s", errPreflight, dst, err, h)
	}
	return nil
}

// bucketHint says which keys to check when the destination's bucket
// check fails.
func bucketHint(err error, d storage.Spec) string {
	if h, ok := destTypeHint(d); ok {
		return h
	}
	switch {
	case errors.Is(err, storage.ErrBucketNotExist):
		return " (check destBucket, and that destDomain and destRegion are the bucket's: create the bucket first if it does not exist)"
	case errors.Is(err, storage.ErrAccessDenied) && d.AccessKey == "":
		return " (destAccessKey is empty, so the credentials came from the environment or the instance's role: set destAccessKey and destSecretKey, or grant that identity list and write access to the bucket)"
	case errors.Is(err, storage.ErrAccessDenied):
		return " (check destAccessKey, destSecretKey and destSecurityToken, and that the keys may list and write the bucket)"
	}
	return hint(err, "dest", d.Type)
}

// hint says which keys to check for a preflight error.
func hint(err error, side, typ string) string {
	switch {
	case typ == "local" && side == "src" && errors.Is(err, storage.ErrBucketNotExist):
		return " (check srcPrefix: it must be an existing folder)"
	case typ == "local" && errors.Is(err, storage.ErrBucketNotExist):
		return " (check destBucket: for destType=local it is the destination folder)"
	case typ == "http" && errors.Is(err, storage.ErrBucketNotExist):
		return " (check httpListFilePath: the URL list file must exist)"
	case typ == "local" && errors.Is(err, storage.ErrAccessDenied):
		return " (check the folder's permissions for the user running ossimport)"
	case errors.Is(err, storage.ErrAccessDenied):
		return fmt.Sprintf(" (check %sAccessKey and %sSecretKey)", side, side)
	case errors.Is(err, storage.ErrBucketNotExist):
		return fmt.Sprintf(" (check %sBucket and %sDomain)", side, side)
	case errors.Is(err, storage.ErrNotSupported):
		return ""
	}
	return fmt.Sprintf(" (check %sDomain and the network)", side)
}

// Throttle keeps l at the rate the spec's schedule (or its fixed cap)
// sets for the current time, until ctx ends. The schedule thus takes
// effect without a restart.
func (s *Spec) Throttle(ctx context.Context, l *rate.Limiter) { throttle(ctx, l, s.RateAt) }

// RateAt is the byte rate cap in force at t: the schedule's entry, else
// the fixed workerMaxThroughput; 0 means unlimited.
func (s *Spec) RateAt(t time.Time) int64 { return rateAt(s.Schedule, s.BytesPerSecond, t) }
