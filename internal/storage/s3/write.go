package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/ossimport/ossimport/internal/storage"
)

// Put stores size bytes from r with PutObject. A seekable r is rewound
// by the SDK to retry; any other r is sent once, unsigned, and a failure
// goes back to the caller. With Config.TrailingCRC32C the result carries
// the CRC-32C the service checked (trailer.go); with Config.LearnCRC32C,
// so does that of a storage.KnownCRC32CBody, sent in a header until the
// service shows it ignores it (knowncrc.go).
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64, meta storage.Metadata) (storage.PutResult, error) {
	var known string // the body's CRC-32C for the request's header
	if kb, ok := r.(storage.KnownCRC32CBody); ok && size > 0 && storage.Support(s.knownCRC32C.Load()) != storage.No {
		known = encodeCRC32C(kb.KnownCRC32C())
	}
	body, optFns, err := s.requestBody(r, size)
	if err != nil {
		return storage.PutResult{}, fmt.Errorf("put %q: %w", key, err)
	}
	w, err := s.putObject(ctx, key, body, size, meta, optFns, known)
	if err != nil {
		werr := s.wrapErr("put", key, err)
		if known != "" && s.refusedCRC32C(err) {
			// Sent again by the caller, without the header now.
			return storage.PutResult{}, storage.Transient(fmt.Errorf("%w (the service refused the %s header: it is not sent again; set destChecksum=md5 to never send it)", werr, crc32cHeader))
		}
		return storage.PutResult{}, werr
	}
	if known != "" {
		s.learnedCRC32C(w.crc32c != "")
	}
	return s.putResult(key, w, s.cfg.TrailingCRC32C || known != "")
}

// putObject sends one PutObject: a body read once (small, or with a
// trailer) directly when it can, any other through the SDK. crc32c, when
// set, is the body's CRC-32C for the x-amz-checksum-crc32c header.
func (s *Store) putObject(ctx context.Context, key string, body io.Reader, size int64, meta storage.Metadata, optFns []func(*awss3.Options), crc32c string) (written, error) {
	if once, ok := body.(*onceReader); ok {
		if s.cfg.TrailingCRC32C {
			return s.putTrailer(ctx, key, once, size, meta, optFns)
		}
		if size > 0 && size <= directPutMax {
			// Larger bodies go through the SDK, which asks for 100-continue.
			h, sent, err := s.direct.send(ctx, directRequest{op: "PutObject", key: s.key(key), meta: &meta, body: once, size: size, crc32c: crc32c})
			if sent {
				return writtenFrom(h), err
			}
		}
	}
	in := s.putInput(key, body, size, meta)
	switch {
	case crc32c != "":
		in.ChecksumCRC32C = aws.String(crc32c)
	case s.cfg.TrailingCRC32C:
		in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32c // the SDK hashes the seekable body
	}
	out, err := s.client.PutObject(ctx, in, expires(optFns, meta)...)
	if err != nil {
		return written{}, err
	}
	return writtenOf(out), nil
}

func (s *Store) putInput(key string, body io.Reader, size int64, meta storage.Metadata) *awss3.PutObjectInput {
	return &awss3.PutObjectInput{
		Bucket:               aws.String(s.cfg.Bucket),
		Key:                  aws.String(s.key(key)),
		Body:                 body,
		ContentLength:        aws.Int64(size),
		ContentType:          optional(meta.ContentType),
		CacheControl:         optional(meta.CacheControl),
		ContentDisposition:   optional(meta.ContentDisposition),
		ContentEncoding:      optional(meta.ContentEncoding),
		ContentLanguage:      optional(meta.ContentLanguage),
		Metadata:             meta.User,
		StorageClass:         types.StorageClass(meta.StorageClass),
		ServerSideEncryption: types.ServerSideEncryption(meta.ServerSideEncryption),
	}
}

// written is what a write's response says, however it was sent.
type written struct {
	etag, version string
	crc32c        string // x-amz-checksum-crc32c, base64
}

func writtenFrom(h http.Header) written {
	return written{etag: h.Get("ETag"), version: h.Get("X-Amz-Version-Id"), crc32c: h.Get(crc32cHeader)}
}

// writtenOf is what the answer to a PutObject sent through the SDK says.
func writtenOf(out *awss3.PutObjectOutput) written {
	return written{etag: aws.ToString(out.ETag), version: aws.ToString(out.VersionId), crc32c: aws.ToString(out.ChecksumCRC32C)}
}

// putResult is the result of a Put; when the Put sent a CRC-32C
// (sentCRC: Config.TrailingCRC32C, or a known one), it carries the
// CRC-32C of the response, when the service gave one.
func (s *Store) putResult(key string, w written, sentCRC bool) (storage.PutResult, error) {
	res := storage.PutResult{ETag: unquote(w.etag), VersionID: w.version}
	if sentCRC {
		sums, err := parseCRC32C(w.crc32c)
		if err != nil {
			return storage.PutResult{}, fmt.Errorf("put %q: %w: %s", key, err, s)
		}
		res.Checksums = sums
	}
	return res, nil
}

// putTrailer sends a streamed body with its CRC-32C in a trailer,
// directly or through the SDK (trailer.go).
func (s *Store) putTrailer(ctx context.Context, key string, once *onceReader, size int64, meta storage.Metadata, optFns []func(*awss3.Options)) (written, error) {
	body := newChunkedBody(once, once.r, size, s.flipCRC32C)
	h, sent, err := s.direct.send(ctx, directRequest{op: "PutObject", key: s.key(key), meta: &meta, body: body, size: size, trailer: true})
	if sent {
		return writtenFrom(h), err
	}
	in := s.putInput(key, body, encodedLength(size), meta)
	in.ContentEncoding = aws.String(trailerContentEncoding(meta.ContentEncoding))
	out, err := s.client.PutObject(ctx, in, sdkTrailerOptions(expires(optFns, meta), size)...)
	if err != nil {
		return written{}, err
	}
	return writtenOf(out), nil
}

// Delete removes key; a missing key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	_, err := s.client.DeleteObject(ctx, &awss3.DeleteObjectInput{
		Bucket: aws.String(s.cfg.Bucket),
		Key:    aws.String(s.key(key)),
	})
	err = s.wrapErr("delete", key, err)
	if errors.Is(err, storage.ErrNotExist) {
		return nil
	}
	return err
}

// expires adds meta's Expires header (a string the SDK's typed field
// would reparse) to opts.
func expires(opts []func(*awss3.Options), meta storage.Metadata) []func(*awss3.Options) {
	if meta.Expires == "" {
		return opts
	}
	return append(opts, withHeader("Expires", meta.Expires))
}

// withHeader sets a request header the SDK has no field for, or parses
// into a type that would lose the text (Expires).
func withHeader(name, value string) func(*awss3.Options) {
	return func(o *awss3.Options) {
		o.APIOptions = append(o.APIOptions, smithyhttp.SetHeaderValue(name, value))
	}
}

// requestBody prepares r to send exactly size bytes. A seekable r becomes
// a window of size bytes from its current offset, which the SDK can rewind
// to retry; over plain HTTP its SHA-256 is signed, over HTTPS (whose own
// integrity checks make the extra pass over the data useless) it goes as
// UNSIGNED-PAYLOAD. Anything else is sent once, as UNSIGNED-PAYLOAD (the
// SDK cannot hash a stream it cannot rewind) and with retries off.
func (s *Store) requestBody(r io.Reader, size int64) (io.Reader, []func(*awss3.Options), error) {
	switch {
	case size < 0:
		return nil, nil, fmt.Errorf("invalid size %d", size)
	case size == 0:
		return nil, nil, nil // nothing to read, rewind or hash
	}
	if rs, ok := r.(io.ReadSeeker); ok {
		if base, err := rs.Seek(0, io.SeekCurrent); err == nil {
			var optFns []func(*awss3.Options)
			if s.tls {
				optFns = append(optFns, unsignedPayload)
			}
			return &window{rs: rs, base: base, size: size}, optFns, nil
		}
	}
	return &onceReader{r: r, left: size}, []func(*awss3.Options){unsignedPayload, noRetries}, nil
}

// unsignedPayload signs a request without hashing its body.
func unsignedPayload(o *awss3.Options) {
	o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
}

// noRetries keeps the SDK from retrying a request whose body cannot be
// rewound.
func noRetries(o *awss3.Options) {
	o.Retryer = aws.NopRetryer{}
}

// window reads size bytes of rs starting at base, and seeks within them.
type window struct {
	rs         io.ReadSeeker
	base, size int64
	pos        int64
}

func (w *window) Read(p []byte) (int, error) {
	if w.pos >= w.size {
		return 0, io.EOF
	}
	if left := w.size - w.pos; int64(len(p)) > left {
		p = p[:left]
	}
	n, err := w.rs.Read(p)
	w.pos += int64(n)
	if err == io.EOF && w.pos < w.size {
		err = fmt.Errorf("body ended after %d of %d bytes: %w", w.pos, w.size, io.ErrUnexpectedEOF)
	}
	return n, err
}

func (w *window) Seek(offset int64, whence int) (int64, error) {
	abs := offset
	switch whence {
	case io.SeekCurrent:
		abs += w.pos
	case io.SeekEnd:
		abs += w.size
	}
	if abs < 0 {
		return 0, fmt.Errorf("seek to negative offset %d", abs)
	}
	if _, err := w.rs.Seek(w.base+abs, io.SeekStart); err != nil {
		return 0, err
	}
	w.pos = abs
	return abs, nil
}

// onceReader reads exactly left bytes of r and cannot seek.
type onceReader struct {
	r    io.Reader
	left int64
}

func (o *onceReader) Read(p []byte) (int, error) {
	if o.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > o.left {
		p = p[:o.left]
	}
	n, err := o.r.Read(p)
	o.left -= int64(n)
	if err == io.EOF && o.left > 0 {
		err = fmt.Errorf("body ended %d bytes short: %w", o.left, io.ErrUnexpectedEOF)
	}
	return n, err
}
