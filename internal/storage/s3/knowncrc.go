package s3

import (
	"context"
	"errors"
	"strings"

	"github.com/ossimport/ossimport/internal/storage"
)

// With destChecksum=auto, a destination other than Amazon S3 over HTTPS
// may or may not support S3 checksums, and a write with a trailer (the
// only way to send a streamed body's CRC-32C) could be refused, or even
// stored wrongly, by one that does not. A body read whole before it is
// sent (storage.KnownCRC32CBody: the copier's small objects) needs no
// trailer: its CRC-32C goes in the x-amz-checksum-crc32c header of a
// plain PUT, which a service that supports checksums checks (BadDigest
// when the bytes it received differ) and returns, and any other ignores.
// So every such Put carries it until the first answer says which kind of
// service this is (Capabilities.KnownCRC32C): one that returns the
// CRC-32C proves each small object by it from then on, and its callers
// need no MD5; one that does not is sent no header again, and its objects
// are proven by their ETags as before. Larger objects keep MD5 either way.

// learnCRC32C reads destChecksum for LearnCRC32C: auto (or empty) where
// trailingCRC32C does not already send every CRC-32C.
func learnCRC32C(checksum, endpoint string) bool {
	switch strings.ToLower(strings.TrimSpace(checksum)) {
	case "", "auto":
		return !trailingCRC32C(checksum, endpoint)
	}
	return false
}

// learnedCRC32C settles Capabilities.KnownCRC32C from the first answer
// to a Put that sent a known CRC-32C: whether it returned one.
func (s *Store) learnedCRC32C(returned bool) {
	learnt := storage.No
	if returned {
		learnt = storage.Yes
	}
	s.knownCRC32C.CompareAndSwap(int32(storage.Unknown), int32(learnt))
}

// refusedCRC32C reports whether err may be a service that does not know
// S3 checksums refusing the header while the store is still learning:
// 400 or 501 (but BadDigest, which only a service that checks the
// CRC-32C answers), or 403 (a signature that covers the header, checked
// where something dropped it on the way). The store then sends it no
// more; a refusal that had another cause comes back on the retry.
func (s *Store) refusedCRC32C(err error) bool {
	if storage.Support(s.knownCRC32C.Load()) != storage.Unknown || errors.Is(err, context.Canceled) {
		return false
	}
	code, status := errorCodeStatus(err)
	if code == "BadDigest" || status != 400 && status != 501 && status != 403 {
		return false
	}
	return s.knownCRC32C.CompareAndSwap(int32(storage.Unknown), int32(storage.No))
}
