package master

import (
	"context"
	"errors"
	"fmt"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/job"
	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/storage"
)

// abortUploads aborts the job's unfinished multipart uploads (the
// workers' bus.Upload records) at its destination and drops their
// records, so that a cleaned job leaves no incomplete upload to be
// billed. An upload already gone at the destination counts as aborted.
// A job whose spec is gone from the bus cannot be opened: its records are
// dropped.
func abortUploads(ctx context.Context, b *bus.Bus, name string, resolve job.Resolver, sys *config.Sys) error {
	ups, err := b.JobUploads(ctx, name)
	if err != nil || len(ups) == 0 {
		return err
	}
	mpw, err := openMultipart(ctx, b, name, resolve, sys)
	if err != nil && !errors.Is(err, bus.ErrNotFound) {
		return fmt.Errorf("abort %d unfinished multipart uploads: %w", len(ups), err)
	}
	var errs []error
	for _, u := range ups {
		if mpw != nil {
			err := mpw.AbortMultipart(ctx, u.DstKey, u.UploadID)
			if err != nil && !errors.Is(err, storage.ErrNotExist) && !errors.Is(err, storage.ErrBucketNotExist) {
				errs = append(errs, fmt.Errorf("abort multipart upload %s: %w", u.UploadID, err))
				continue
			}
		}
		if err := b.DeleteUpload(ctx, name, u.Task, u.Key); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%d of %d unfinished multipart uploads not aborted (clean again once the destination is reachable): %w",
			len(errs), len(ups), errors.Join(errs...))
	}
	return nil
}

// openMultipart opens the job's destination from its submitted spec; nil
// when the destination has no multipart uploads.
func openMultipart(ctx context.Context, b *bus.Bus, name string, resolve job.Resolver, sys *config.Sys) (storage.MultipartWriter, error) {
	_, _, dst, err := openDestination(ctx, b, name, resolve, sys)
	if err != nil {
		return nil, err
	}
	mpw, _ := dst.(storage.MultipartWriter)
	return mpw, nil
}

// openDestination opens the job's destination from its submitted spec
// (only the destination: a source gone since must not stop a clean).
func openDestination(ctx context.Context, b *bus.Bus, name string, resolve job.Resolver, sys *config.Sys) (protocol.Job, *job.Spec, storage.Destination, error) {
	var pj protocol.Job
	data, err := b.Jobs().Get(ctx, name)
	if err != nil {
		return pj, nil, nil, err
	}
	if pj, err = protocol.DecodeJob(data); err != nil {
		return pj, nil, nil, fmt.Errorf("job %s: %w", name, err)
	}
	if resolve == nil {
		resolve = job.FromConfig
	}
	spec, err := resolve(pj.File, pj.Config, sys)
	if err != nil {
		return pj, nil, nil, err
	}
	dst, err := storage.OpenDestination(ctx, spec.Dest)
	if err != nil {
		return pj, nil, nil, fmt.Errorf("open destination: %w", err)
	}
	return pj, spec, dst, nil
}
