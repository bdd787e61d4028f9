package oss

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossimport/ossimport/internal/storage"
)

// credentialsHint is added to errors about refused credentials.
const credentialsHint = "check the access key pair (srcAccessKey/srcSecretKey or destAccessKey/destSecretKey) " +
	"and that it may access this bucket"

// serviceError shows an OSS error answer on one line; the SDK's own
// message spans seven.
type serviceError struct{ se *oss.ServiceError }

func (e serviceError) Error() string {
	msg := fmt.Sprintf("%s (HTTP %d)", e.se.Code, e.se.StatusCode)
	if e.se.Message != "" {
		msg += ": " + strings.TrimSuffix(e.se.Message, ".")
	}
	if e.se.RequestID != "" {
		msg += ", request id " + e.se.RequestID
	}
	return msg
}

func (e serviceError) Unwrap() error { return e.se }

// errCRC is how the SDK words a CRC-64 mismatch.
const errCRC = "crc is inconsistent"

// wrap maps an error from the SDK to the storage sentinels. what names
// the operation and object, e.g. `stat "a/b.txt"`; the original error
// stays in the chain. 5xx answers, throttling, timeouts, broken
// connections and damaged transfers are marked transient.
func (s *Store) wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	var se *oss.ServiceError
	if errors.As(err, &se) {
		return s.wrapService(what, se)
	}
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: %w", what, err)
	case strings.Contains(err.Error(), errCRC):
		return storage.Transient(fmt.Errorf("%s in %s: %w: %w", what, s, storage.ErrChecksumMismatch, err))
	case isNetworkError(err):
		return storage.Transient(fmt.Errorf("%s in %s: %w", what, s, err))
	}
	return fmt.Errorf("%s in %s: %w", what, s, err)
}

// wrapService maps an OSS error code.
func (s *Store) wrapService(what string, se *oss.ServiceError) error {
	err := serviceError{se}
	switch se.Code {
	case "NoSuchKey", "NoSuchUpload":
		return fmt.Errorf("%s in %s: %w: %w", what, s, storage.ErrNotExist, err)
	case "NoSuchBucket":
		return fmt.Errorf("%s in %s: %w: %w; check the bucket name and that the endpoint is in the bucket's region",
			what, s, storage.ErrBucketNotExist, err)
	case "AccessDenied", "SignatureDoesNotMatch", "InvalidAccessKeyId", "SecurityTokenExpired", "InvalidSecurityToken":
		return fmt.Errorf("%s in %s: %w: %w; %s", what, s, storage.ErrAccessDenied, err, credentialsHint)
	case "InvalidObjectName":
		return fmt.Errorf("%s in %s: %w: %w", what, s, storage.ErrInvalidKey, err)
	case "InvalidObjectState":
		return fmt.Errorf("%s in %s: %w: %w; restore it first (RestoreObject, or ossutil restore) and wait until the restore has finished",
			what, s, storage.ErrNeedsRestore, err)
	case "InvalidDigest", "BadDigest":
		return storage.Transient(fmt.Errorf("%s in %s: %w: %w", what, s, storage.ErrChecksumMismatch, err))
	case "RequestTimeout", "IncompleteBody":
		return storage.Transient(fmt.Errorf("%s in %s: %w", what, s, err))
	}
	switch {
	case storage.TransientHTTPStatus(se.StatusCode):
		return storage.Transient(fmt.Errorf("%s in %s: %w", what, s, err))
	case se.StatusCode == 404: // HEAD answers carry no error document
		return fmt.Errorf("%s in %s: %w: %w", what, s, storage.ErrNotExist, err)
	case se.StatusCode == 403:
		return fmt.Errorf("%s in %s: %w: %w; %s", what, s, storage.ErrAccessDenied, err, credentialsHint)
	}
	return fmt.Errorf("%s in %s: %w", what, s, err)
}

// isNetworkError reports whether err comes from the connection rather
// than from OSS or from our own arguments.
func isNetworkError(err error) bool {
	var ue *url.Error
	var ne net.Error
	return errors.As(err, &ue) || errors.As(err, &ne) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// crcMismatch reports a CRC-64 OSS reported that differs from the one
// of the data; whose says where that one comes from.
func (s *Store) crcMismatch(what string, reported, actual uint64, whose string) error {
	return storage.Transient(fmt.Errorf("%s in %s: %w: OSS reports CRC-64 %d, %s %d",
		what, s, storage.ErrChecksumMismatch, reported, whose, actual))
}
