package oss

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossimport/ossimport/internal/storage"
)

// CreateMultipart implements storage.MultipartWriter with
// InitiateMultipartUpload; the object's metadata, storage class and
// encryption are fixed here.
func (s *Store) CreateMultipart(ctx context.Context, key string, meta storage.Metadata) (string, error) {
	what := fmt.Sprintf("start multipart upload of %q", key)
	if err := storage.CheckOSSKey(key); err != nil {
		return "", fmt.Errorf("%s in %s: %w", what, s, err)
	}
	res, err := s.client.InitiateMultipartUpload(ctx, &oss.InitiateMultipartUploadRequest{
		Bucket:               oss.Ptr(s.bucket),
		Key:                  oss.Ptr(key),
		ContentType:          ptr(meta.ContentType),
		CacheControl:         ptr(meta.CacheControl),
		ContentDisposition:   ptr(meta.ContentDisposition),
		ContentEncoding:      ptr(meta.ContentEncoding),
		Expires:              ptr(meta.Expires),
		Metadata:             meta.User,
		StorageClass:         storageClass(meta.StorageClass),
		ServerSideEncryption: ptr(meta.ServerSideEncryption),
		RequestCommon:        extraHeaders(meta),
	})
	if err != nil {
		return "", s.wrap(what, err)
	}
	return oss.ToString(res.UploadId), nil
}

// UploadPart implements storage.MultipartWriter. Like Put, the SDK checks
// the part's CRC-64 and the result carries OSS's.
func (s *Store) UploadPart(ctx context.Context, key, uploadID string, n int, r io.Reader, size int64) (storage.Part, error) {
	what := fmt.Sprintf("upload part %d of %q", n, key)
	if err := checkWrite(key, size, maxPartSize); err != nil {
		return storage.Part{}, fmt.Errorf("%s in %s: %w", what, s, err)
	}
	if n < 1 || n > maxParts {
		return storage.Part{}, fmt.Errorf("%s in %s: part numbers go from 1 to %d", what, s, maxParts)
	}
	body, rewindable := sizedBody(r, size)
	res, err := s.uploader(r).UploadPart(ctx, &oss.UploadPartRequest{
		Bucket:        oss.Ptr(s.bucket),
		Key:           oss.Ptr(key),
		UploadId:      oss.Ptr(uploadID),
		PartNumber:    int32(n),
		Body:          body,
		ContentLength: oss.Ptr(size),
	}, retries(rewindable)...)
	if err != nil {
		return storage.Part{}, s.wrap(what, err)
	}
	return storage.Part{
		Number:    n,
		Size:      size,
		ETag:      strings.Trim(oss.ToString(res.ETag), `"`),
		Checksums: checksums(res.Headers),
	}, nil
}

// ListParts implements storage.MultipartWriter, following ListParts
// pages.
func (s *Store) ListParts(ctx context.Context, key, uploadID string) ([]storage.Part, error) {
	what := fmt.Sprintf("list parts of %q", key)
	var parts []storage.Part
	var marker int32
	for {
		res, err := s.client.ListParts(ctx, &oss.ListPartsRequest{
			Bucket:           oss.Ptr(s.bucket),
			Key:              oss.Ptr(key),
			UploadId:         oss.Ptr(uploadID),
			PartNumberMarker: marker,
		})
		if err != nil {
			return nil, s.wrap(what, err)
		}
		for _, p := range res.Parts {
			part := storage.Part{Number: int(p.PartNumber), Size: p.Size, ETag: strings.Trim(oss.ToString(p.ETag), `"`)}
			part.Checksums.CRC64, part.Checksums.HasCRC64 = parseCRC(p.HashCRC64)
			parts = append(parts, part)
		}
		if !res.IsTruncated || res.NextPartNumberMarker <= marker {
			return parts, nil
		}
		marker = res.NextPartNumberMarker
	}
}

// CompleteMultipart implements storage.MultipartWriter. When every part
// carries a CRC-64, their combination must equal the CRC-64 OSS reports
// for the object.
func (s *Store) CompleteMultipart(ctx context.Context, key, uploadID string, parts []storage.Part) (storage.PutResult, error) {
	what := fmt.Sprintf("complete multipart upload of %q", key)
	list := make([]oss.UploadPart, len(parts))
	for i, p := range parts {
		list[i] = oss.UploadPart{PartNumber: int32(p.Number), ETag: oss.Ptr(`"` + strings.Trim(p.ETag, `"`) + `"`)}
	}
	res, err := s.client.CompleteMultipartUpload(ctx, &oss.CompleteMultipartUploadRequest{
		Bucket:                  oss.Ptr(s.bucket),
		Key:                     oss.Ptr(key),
		UploadId:                oss.Ptr(uploadID),
		CompleteMultipartUpload: &oss.CompleteMultipartUpload{Parts: list},
	})
	if err != nil {
		return storage.PutResult{}, s.wrap(what, err)
	}
	result := storage.PutResult{
		ETag:      strings.Trim(oss.ToString(res.ETag), `"`),
		Checksums: checksums(res.Headers),
		VersionID: oss.ToString(res.VersionId),
	}
	if want, ok := combinedCRC(parts); ok && result.Checksums.HasCRC64 && result.Checksums.CRC64 != want {
		return result, s.crcMismatch(what, result.Checksums.CRC64, want, "its parts combine to")
	}
	return result, nil
}

// combinedCRC is the CRC-64 of the concatenated parts, when all are known.
func combinedCRC(parts []storage.Part) (uint64, bool) {
	var crc uint64
	for _, p := range parts {
		if !p.Checksums.HasCRC64 {
			return 0, false
		}
		crc = oss.CRC64Combine(crc, p.Checksums.CRC64, uint64(p.Size))
	}
	return crc, len(parts) > 0
}

// AbortMultipart implements storage.MultipartWriter.
func (s *Store) AbortMultipart(ctx context.Context, key, uploadID string) error {
	_, err := s.client.AbortMultipartUpload(ctx, &oss.AbortMultipartUploadRequest{
		Bucket:   oss.Ptr(s.bucket),
		Key:      oss.Ptr(key),
		UploadId: oss.Ptr(uploadID),
	})
	return s.wrap(fmt.Sprintf("abort multipart upload of %q", key), err)
}
