package oss

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossimport/ossimport/internal/storage"
)

// Put implements storage.Writer with PutObject, for objects of up to
// 5 GiB. The SDK checks the CRC-64 of what it sent against the one OSS
// computed and fails with ErrChecksumMismatch when they differ, unless
// r is a storage.CheckedBody; the result carries OSS's CRC-64 for the
// caller to check against its own.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64, meta storage.Metadata) (storage.PutResult, error) {
	what := fmt.Sprintf("put %q", key)
	if err := checkWrite(key, size, maxPartSize); err != nil {
		return storage.PutResult{}, fmt.Errorf("%s in %s: %w", what, s, err)
	}
	body, rewindable := sizedBody(r, size)
	req := &oss.PutObjectRequest{
		Bucket:               oss.Ptr(s.bucket),
		Key:                  oss.Ptr(key),
		Body:                 body,
		ContentLength:        oss.Ptr(size),
		ContentType:          ptr(meta.ContentType),
		CacheControl:         ptr(meta.CacheControl),
		ContentDisposition:   ptr(meta.ContentDisposition),
		ContentEncoding:      ptr(meta.ContentEncoding),
		Expires:              ptr(meta.Expires),
		Metadata:             meta.User,
		StorageClass:         storageClass(meta.StorageClass),
		ServerSideEncryption: ptr(meta.ServerSideEncryption),
		RequestCommon:        extraHeaders(meta),
	}
	res, err := s.uploader(r).PutObject(ctx, req, retries(rewindable)...)
	if err != nil {
		return storage.PutResult{}, s.wrap(what, err)
	}
	return storage.PutResult{
		ETag:      strings.Trim(oss.ToString(res.ETag), `"`),
		Checksums: checksums(res.Headers),
		VersionID: oss.ToString(res.VersionId),
	}, nil
}

// checkWrite validates the key and size of an object or part to write.
func checkWrite(key string, size, limit int64) error {
	if err := storage.CheckOSSKey(key); err != nil {
		return err
	}
	if size < 0 || size > limit {
		return fmt.Errorf("size %d out of range: OSS takes 0 to %d bytes in one request", size, limit)
	}
	return nil
}

// sizedBody returns a body of exactly size bytes read from r, and whether
// the SDK can rewind it to retry. Readers that can seek and read at an
// offset (files, bytes.Reader) can; other readers are sent once, as the
// bytes they gave are gone.
func sizedBody(r io.Reader, size int64) (io.Reader, bool) {
	if r == nil {
		r = strings.NewReader("")
	}
	if ra, ok := r.(interface {
		io.ReaderAt
		io.Seeker
	}); ok {
		if pos, err := ra.Seek(0, io.SeekCurrent); err == nil {
			return io.NewSectionReader(ra, pos, size), true
		}
	}
	return io.LimitReader(r, size), false
}

// retries returns the per-request options for a body: one attempt only
// when it cannot be rewound.
func retries(rewindable bool) []func(*oss.Options) {
	if rewindable {
		return nil
	}
	return []func(*oss.Options){func(o *oss.Options) { o.RetryMaxAttempts = oss.Ptr(1) }}
}

// extraHeaders carries the metadata the SDK's request types have no
// field for.
func extraHeaders(meta storage.Metadata) oss.RequestCommon {
	if meta.ContentLanguage == "" {
		return oss.RequestCommon{}
	}
	return oss.RequestCommon{Headers: map[string]string{"Content-Language": meta.ContentLanguage}}
}

// storageClass spells a storage class as OSS does (Standard, IA, Archive,
// ColdArchive, DeepColdArchive), whatever its case; other values go to
// OSS as given, which refuses them.
func storageClass(class string) oss.StorageClassType {
	for _, c := range []oss.StorageClassType{oss.StorageClassStandard, oss.StorageClassIA, oss.StorageClassArchive,
		oss.StorageClassColdArchive, oss.StorageClassDeepColdArchive} {
		if strings.EqualFold(class, string(c)) {
			return c
		}
	}
	return oss.StorageClassType(class)
}

// parseCRC reads a decimal CRC-64 header value.
func parseCRC(v *string) (uint64, bool) {
	crc, err := strconv.ParseUint(oss.ToString(v), 10, 64)
	return crc, err == nil
}

// Delete implements storage.Writer with DeleteObject.
func (s *Store) Delete(ctx context.Context, key string) error {
	what := fmt.Sprintf("delete %q", key)
	if err := storage.CheckOSSKey(key); err != nil {
		return fmt.Errorf("%s in %s: %w", what, s, err)
	}
	_, err := s.client.DeleteObject(ctx, &oss.DeleteObjectRequest{Bucket: oss.Ptr(s.bucket), Key: oss.Ptr(key)})
	return s.wrap(what, err)
}

// uploader returns the client to send body r with: one that leaves the
// CRC-64 check to the caller when r is a storage.CheckedBody (the
// result still carries OSS's CRC-64 for it to compare).
func (s *Store) uploader(r io.Reader) *oss.Client {
	if _, ok := r.(storage.CheckedBody); ok && s.unchecked != nil {
		return s.unchecked
	}
	return s.client
}
