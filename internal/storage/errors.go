package storage

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"syscall"
)

// Sentinel errors. Backends map their service's errors to these at their
// edge, wrapping the original so its message stays visible:
//
//	fmt.Errorf("stat %q: %w: %w", key, storage.ErrNotExist, err)
var (
	// ErrNotExist means the object (or multipart upload) does not exist.
	// It is fs.ErrNotExist, so errors.Is(err, os.ErrNotExist) holds too.
	ErrNotExist = fs.ErrNotExist
	// ErrBucketNotExist means the bucket, container or root directory
	// does not exist.
	ErrBucketNotExist = errors.New("bucket does not exist")
	// ErrAccessDenied means the credentials were refused or lack the
	// permission (wrong key, wrong signature, forbidden).
	ErrAccessDenied = errors.New("access denied")
	// ErrNotSupported means the store cannot do the operation.
	ErrNotSupported = errors.New("not supported by this store")
	// ErrInvalidKey means the key is not a valid object name for the store.
	ErrInvalidKey = errors.New("invalid object name")
	// ErrNeedsRestore means the object is archived and must be restored
	// before it can be read.
	ErrNeedsRestore = errors.New("object is archived and must be restored first")
	// ErrChecksumMismatch means data was corrupted in transit: a checksum
	// the store reported differs from the one computed locally.
	ErrChecksumMismatch = errors.New("checksum mismatch")
	// ErrNotRegular means the key names a special file (a named pipe, a
	// socket, a device) of a local store: listed, so that it is reported,
	// but never read.
	ErrNotRegular = errors.New("not a regular file")
)

// transientError marks an error as worth retrying.
type transientError struct{ err error }

func (e transientError) Error() string { return e.err.Error() }
func (e transientError) Unwrap() error { return e.err }

// Transient marks err as transient: retrying the same request later may
// succeed (throttling, 5xx, timeouts, dropped connections). It returns nil
// for a nil err.
func Transient(err error) error {
	if err == nil {
		return nil
	}
	return transientError{err}
}

// IsTransient reports whether err is worth retrying: it was marked with
// Transient, or it is a network timeout, a refused or reset connection, or
// an unexpected end of a response. Context cancellation is never transient.
func IsTransient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var t transientError
	if errors.As(err, &t) {
		return true
	}
	for _, permanent := range []error{ErrNotExist, ErrBucketNotExist, ErrAccessDenied, ErrNotSupported, ErrInvalidKey, ErrNeedsRestore} {
		if errors.Is(err, permanent) {
			return false
		}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, io.ErrUnexpectedEOF)
}

// TransientHTTPStatus reports whether an HTTP status code from an object
// store means "try again": request timeout, throttling and server errors.
func TransientHTTPStatus(code int) bool {
	switch code {
	case 408, 429, 500, 502, 503, 504:
		return true
	}
	return false
}
