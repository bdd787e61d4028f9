package s3

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

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

// putKnown stores a body whose CRC-32C is known with that CRC-32C in
// the x-amz-checksum-crc32c header, and learns from the answer whether
// the service checks it.
func (s *Store) putKnown(ctx context.Context, key string, kb storage.KnownCRC32CBody, size int64, meta storage.Metadata) (storage.PutResult, error) {
	sum := encodeCRC32C(kb.KnownCRC32C())
	body, optFns, err := s.requestBody(kb, size)
	if err != nil {
		return storage.PutResult{}, fmt.Errorf("put %q: %w", key, err)
	}
	var (
		w    written
		h    http.Header
		sent bool
	)
	if once, ok := body.(*onceReader); ok && size <= directPutMax {
		// As any other body without a trailer: larger ones go through
		// the SDK, which asks for 100-continue.
		h, sent, err = s.direct.send(ctx, directRequest{op: "PutObject", key: s.key(key), meta: &meta, body: once, size: size, crc32c: sum})
	}
	if sent {
		if err == nil {
			w = writtenFrom(h)
		}
	} else {
		in := s.putInput(key, body, size, meta)
		in.ChecksumCRC32C = aws.String(sum)
		out, perr := s.client.PutObject(ctx, in, expires(optFns, meta)...)
		if err = perr; err == nil {
			w = writtenOf(out)
		}
	}
	if err != nil {
		werr := s.wrapErr("put", key, err)
		if s.refusedCRC32C(err) {
			// Sent again by the caller, without the header now.
			return storage.PutResult{}, storage.Transient(fmt.Errorf("%w (the service refused the %s header: it is not sent again; set destChecksum=md5 to never send it)", werr, crc32cHeader))
		}
		return storage.PutResult{}, werr
	}
	if w.crc32c != "" {
		s.knownCRC32C.CompareAndSwap(int32(storage.Unknown), int32(storage.Yes))
	} else {
		s.knownCRC32C.CompareAndSwap(int32(storage.Unknown), int32(storage.No))
	}
	return s.putResult(key, w, true)
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
