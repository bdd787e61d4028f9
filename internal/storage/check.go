package storage

import (
	"context"
	"fmt"
	"unicode/utf8"
)

// BucketChecker is implemented by stores that can tell, with one cheap
// authenticated request (HeadBucket, or a listing of one key), that
// their bucket exists and the credentials are accepted. Preflight calls
// it so a wrong bucket, region or key is one clear error before a job
// starts. A missing bucket yields an error wrapping ErrBucketNotExist,
// refused credentials one wrapping ErrAccessDenied.
type BucketChecker interface {
	CheckBucket(ctx context.Context) error
}

// KeyChecker is implemented by destinations with object name rules of
// their own (OSS: at most 1023 bytes, no leading "/"; S3: at most 1024
// bytes). The engine checks every destination key with CheckKey before
// copying, so a name the destination refuses is reported as an invalid
// name rather than as an upload failure.
type KeyChecker interface {
	// CheckKey returns nil for a valid name, else an error wrapping
	// ErrInvalidKey that says what to change.
	CheckKey(key string) error
}

// CheckKey checks key against dst's name rules when it has any
// (KeyChecker), else only that the name is not empty.
func CheckKey(dst Store, key string) error {
	if kc, ok := dst.(KeyChecker); ok {
		return kc.CheckKey(key)
	}
	if key == "" {
		return fmt.Errorf("%w: the name is empty", ErrInvalidKey)
	}
	return nil
}

// MaxS3KeyLength is the longest object name S3 accepts, in bytes.
const MaxS3KeyLength = 1024

// CheckS3Key reports why key is not a valid S3 object name, or nil: 1
// to 1024 bytes of valid UTF-8.
func CheckS3Key(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: the name is empty", ErrInvalidKey)
	case len(key) > MaxS3KeyLength:
		return fmt.Errorf("%w: %q is %d bytes, longer than %d (shorten the path or destPrefix)",
			ErrInvalidKey, shorten(key), len(key), MaxS3KeyLength)
	case !utf8.ValidString(key):
		return notUTF8(key)
	}
	return nil
}
