package master

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/storage"
)

// An ended job leaves no unfinished multipart upload at its destination:
// a copy interrupted between starting an upload and recording it (a
// process killed, say) leaves one that no record names and no worker
// will finish, and the provider bills its parts. When a job ends, the
// active master lists the uploads under the job's destination prefix and
// aborts those started since the job was submitted that no record names.

// sweepSkew allows for the destination's clock running behind ours when
// uploads are compared with the job's submit time.
const sweepSkew = 5 * time.Minute

// sweepTimeout bounds one sweep.
const sweepTimeout = 2 * time.Minute

// sweepUploads aborts the job's unrecorded unfinished uploads and returns
// how many it aborted. Destinations that cannot list uploads are left
// alone.
func (m *Master) sweepUploads(ctx context.Context, name string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, sweepTimeout)
	defer cancel()
	pj, spec, dst, err := openDestination(ctx, m.opts.Bus, name, m.opts.Resolve, m.opts.Settings.ResolveWith)
	if errors.Is(err, bus.ErrNotFound) {
		return 0, nil // cleaned meanwhile: clean aborts the recorded ones
	}
	if err != nil {
		return 0, err
	}
	lister, ok := dst.(storage.UploadLister)
	mpw, ok2 := dst.(storage.MultipartWriter)
	if !ok || !ok2 {
		return 0, nil
	}
	recorded := map[string]bool{}
	ups, err := m.opts.Bus.JobUploads(ctx, name)
	if err != nil {
		return 0, err
	}
	for _, u := range ups {
		recorded[u.UploadID] = true
	}
	prefix := spec.Plan.DstPrefix
	pending, err := lister.ListUploads(ctx, prefix)
	if err != nil {
		return 0, err
	}
	since := pj.Submitted.Add(-sweepSkew)
	n := 0
	var errs []error
	for _, u := range pending {
		if recorded[u.UploadID] || !strings.HasPrefix(u.Key, prefix) || u.Initiated.IsZero() || u.Initiated.Before(since) {
			continue
		}
		if err := mpw.AbortMultipart(ctx, u.Key, u.UploadID); err != nil && !errors.Is(err, storage.ErrNotExist) {
			errs = append(errs, fmt.Errorf("abort the upload %s of %q: %w", u.UploadID, u.Key, err))
			continue
		}
		m.jlog.Warn("aborted an unfinished multipart upload no copy will finish (left by an interrupted copy)", "job", name, "key", u.Key, "upload", u.UploadID, "initiated", u.Initiated)
		n++
	}
	return n, errors.Join(errs...)
}
