package transfer

import (
	"context"
	"errors"

	"github.com/ossimport/ossimport/internal/storage"
)

// known are the storage sentinels a failure is classified by.
var known = []error{storage.ErrNotExist, storage.ErrBucketNotExist, storage.ErrAccessDenied,
	storage.ErrNotSupported, storage.ErrInvalidKey, storage.ErrNeedsRestore, storage.ErrChecksumMismatch}

// Unclassified reports whether r failed with an error the engine cannot
// classify: a download or upload failure whose cause is no storage
// sentinel (missing object or bucket, refused credentials, unsupported
// operation, invalid name, archived object, corrupted data) and not
// transient either. These are the "uncaught exceptions" that
// workerAbortWhenUncatchedException=true turns into the end of a task.
// Successes, the other result codes (a changed source, say), failures
// without an error and interruptions (a cancelled context) are
// classified.
func Unclassified(r Result) bool {
	if r.Code != DownloadFailed && r.Code != UploadFailed || r.Err == nil || errors.Is(r.Err, context.Canceled) {
		return false
	}
	for _, k := range known {
		if errors.Is(r.Err, k) {
			return false
		}
	}
	return !storage.IsTransient(r.Err)
}
