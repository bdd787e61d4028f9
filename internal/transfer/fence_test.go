package transfer

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/memory"
)

// TestFenceStopsWrites: a copy whose fence says it lost its object
// stops at the next write: a PUT stores nothing, a multipart upload gets
// no more parts and no completion and is not aborted (its new owner may
// be resuming it; PendingUpload names it); the result is marked Fenced
// and not retried.
func TestFenceStopsWrites(t *testing.T) {
	for _, tc := range []struct {
		name   string
		size   int
		passes int32 // fence checks answered "still yours"
		upload bool  // an upload is left for the new owner
	}{
		{"put-before-write", 1000, 0, false},
		{"put-at-last-byte", 1000, 1, false},
		{"multipart-before-start", 3 << 20, 0, false},
		{"multipart-between-parts", 3 << 20, 2, true},
		{"multipart-before-complete", 3 << 20, 1 + 12, true}, // start, 12 parts
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, dst := memory.New("src"), memory.New("dst")
			obj := seed(t, src, "k", randomBytes(tc.size, 9), time.Unix(1, 0))
			var checks atomic.Int32
			opts := testOptions()
			opts.PartConcurrency = 1
			opts.Fence = func(context.Context, Object) error {
				if checks.Add(1) > tc.passes {
					return ErrFenced
				}
				return nil
			}
			res := newCopier(t, dst, src, opts).Copy(t.Context(), obj)
			if !Fenced(res) || res.Code.OK() || res.Attempts != 1 {
				t.Fatalf("copy = %s (fenced %v, %d attempts): %s", res.Code, Fenced(res), res.Attempts, res.Detail)
			}
			if _, err := dst.Stat(t.Context(), "k"); !errors.Is(err, storage.ErrNotExist) {
				t.Fatalf("a fenced copy stored the object (err %v)", err)
			}
			id, _ := res.PendingUpload()
			if tc.upload != (id != "") {
				t.Fatalf("pending upload %q, want one: %v", id, tc.upload)
			}
			if id != "" {
				if _, err := dst.ListParts(t.Context(), "k", id); err != nil {
					t.Fatalf("the upload left for the new owner was aborted: %v", err)
				}
			}
		})
	}
}
