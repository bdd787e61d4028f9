package transfer

import (
	"time"

	"github.com/ossimport/ossimport/internal/storage"
)

// Code is the outcome of one object, as written in audit.log. The set is
// closed: every Result carries one of these.
type Code string

// The result codes. The first three are successes.
const (
	// Succeed: copied, and verified against what the destination reported.
	Succeed Code = "Succeed"
	// Skipped: nothing to do (already at the destination with the same size
	// and source mtime, or a symbolic link while isAllowSymbolicLink=false).
	// Detail says which.
	Skipped Code = "Skipped"
	// AuditOK: verification only (jobType=audit); source and destination
	// agree under the audit mode.
	AuditOK Code = "AuditOK"

	// SizeNotMatch: the source changed (size or mtime) between planning and
	// copying, or while it was read (for local files also ctime or inode:
	// rewritten in place) and again on each of MaxRecopies copies. The
	// destination holds nothing or the version it held before, never a
	// mix; Detail says which. A retry copies the current one.
	SizeNotMatch Code = "SIZE_NOT_MATCH"
	// SourceNotFound: the source object was deleted after it was listed.
	SourceNotFound Code = "SourceNotFound"
	// InvalidName: the destination key breaks the object-name rules.
	InvalidName Code = "InvalidName"
	// NeedsRestore: the source object is archived and must be restored.
	NeedsRestore Code = "NeedsRestore"
	// DownloadFailed: reading the source failed.
	DownloadFailed Code = "DownloadFailed"
	// UploadFailed: writing the destination failed.
	UploadFailed Code = "UploadFailed"
	// CheckFailed: the copy finished but verification failed (checksum or
	// size differ, or the destination could not be read back).
	CheckFailed Code = "CheckFailed"
	// AuditFailed: jobType=audit found the destination missing or different.
	AuditFailed Code = "AuditFailed"
)

// Codes lists every result code, successes first.
var Codes = []Code{Succeed, Skipped, AuditOK, SizeNotMatch, SourceNotFound, InvalidName, NeedsRestore, DownloadFailed, UploadFailed, CheckFailed, AuditFailed}

// OK reports whether the code is a success.
func (c Code) OK() bool { return c == Succeed || c == Skipped || c == AuditOK }

// Result is the outcome of copying or auditing one object.
type Result struct {
	Object Object
	Code   Code
	// Detail explains the code in one line; for failures it holds the
	// error and what to do about it.
	Detail string
	// Bytes counts the bytes written to the destination by this call
	// (0 when skipped or copied server-side).
	Bytes int64
	// Size is the object's size as copied or audited.
	Size int64
	// Checksums of the content, as computed while copying.
	Checksums storage.Checksums
	// Err is the underlying error of a failure, nil on success.
	Err      error
	Attempts int
	Duration time.Duration
	// Strategy says how the object was copied: "put", "multipart",
	// "server-side", or "" when nothing was copied.
	Strategy string
	// Check names what verification compared for a Succeed or AuditOK
	// result: CheckCRC64, CheckMD5, CheckETag or CheckSizeOnly; "" for
	// other codes.
	Check string

	// uploadID and partSize of the multipart upload left pending at the
	// destination, so the next attempt resumes it.
	uploadID string
	partSize int64
	// changed: the source changed while it was read; the copy was not
	// completed and may be made again (see MaxRecopies).
	changed bool
}

// PendingUpload returns the multipart upload this copy left unfinished
// at the destination, to be resumed by a later copy of the object
// (Object.UploadID and PartSize): after a transient failure or an
// interruption. It returns "" when none is left: the upload completed,
// or was aborted because it was not worth resuming (a permanent failure,
// a source that changed, an upload that vanished or changed part size),
// or none was started.
func (r Result) PendingUpload() (uploadID string, partSize int64) {
	return r.uploadID, r.partSize
}
