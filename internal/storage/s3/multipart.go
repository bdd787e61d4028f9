package s3

import (
	"context"
	"fmt"
	"io"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ossimport/ossimport/internal/storage"
)

// CreateMultipart starts a multipart upload carrying meta.
func (s *Store) CreateMultipart(ctx context.Context, key string, meta storage.Metadata) (string, error) {
	in := &awss3.CreateMultipartUploadInput{
		Bucket:               aws.String(s.cfg.Bucket),
		Key:                  aws.String(s.key(key)),
		ContentType:          optional(meta.ContentType),
		CacheControl:         optional(meta.CacheControl),
		ContentDisposition:   optional(meta.ContentDisposition),
		ContentEncoding:      optional(meta.ContentEncoding),
		ContentLanguage:      optional(meta.ContentLanguage),
		Metadata:             meta.User,
		StorageClass:         types.StorageClass(meta.StorageClass),
		ServerSideEncryption: types.ServerSideEncryption(meta.ServerSideEncryption),
	}
	out, err := s.client.CreateMultipartUpload(ctx, in, expires(nil, meta)...)
	if err != nil {
		return "", s.wrapErr("create multipart upload of", key, err)
	}
	return aws.ToString(out.UploadId), nil
}

// UploadPart stores part n of an upload; the body rules of Put apply.
func (s *Store) UploadPart(ctx context.Context, key, uploadID string, n int, r io.Reader, size int64) (storage.Part, error) {
	what := fmt.Sprintf("upload part %d of", n)
	if n < 1 || n > MaxParts {
		return storage.Part{}, fmt.Errorf("%s %q: part number out of range 1-%d", what, key, MaxParts)
	}
	body, optFns, err := s.requestBody(r, size)
	if err != nil {
		return storage.Part{}, fmt.Errorf("%s %q: %w", what, key, err)
	}
	out, err := s.client.UploadPart(ctx, &awss3.UploadPartInput{
		Bucket:        aws.String(s.cfg.Bucket),
		Key:           aws.String(s.key(key)),
		UploadId:      aws.String(uploadID),
		PartNumber:    aws.Int32(int32(n)),
		Body:          body,
		ContentLength: aws.Int64(size),
	}, optFns...)
	if err != nil {
		return storage.Part{}, s.wrapErr(what, key, err)
	}
	return storage.Part{Number: n, Size: size, ETag: unquote(aws.ToString(out.ETag))}, nil
}

// ListParts returns every part the service holds for the upload, following
// the part-number marker across pages.
func (s *Store) ListParts(ctx context.Context, key, uploadID string) ([]storage.Part, error) {
	var parts []storage.Part
	in := &awss3.ListPartsInput{
		Bucket:   aws.String(s.cfg.Bucket),
		Key:      aws.String(s.key(key)),
		UploadId: aws.String(uploadID),
	}
	for {
		out, err := s.client.ListParts(ctx, in)
		if err != nil {
			return nil, s.wrapErr("list parts of", key, err)
		}
		for _, p := range out.Parts {
			parts = append(parts, storage.Part{
				Number: int(aws.ToInt32(p.PartNumber)),
				Size:   aws.ToInt64(p.Size),
				ETag:   unquote(aws.ToString(p.ETag)),
			})
		}
		next := aws.ToString(out.NextPartNumberMarker)
		if !aws.ToBool(out.IsTruncated) || next == "" || next == aws.ToString(in.PartNumberMarker) {
			break
		}
		in.PartNumberMarker = aws.String(next)
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].Number < parts[j].Number })
	return parts, nil
}

// CompleteMultipart assembles the parts in part-number order.
func (s *Store) CompleteMultipart(ctx context.Context, key, uploadID string, parts []storage.Part) (storage.PutResult, error) {
	sorted := append([]storage.Part(nil), parts...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Number < sorted[j].Number })
	completed := make([]types.CompletedPart, len(sorted))
	for i, p := range sorted {
		completed[i] = types.CompletedPart{
			PartNumber: aws.Int32(int32(p.Number)),
			ETag:       aws.String(`"` + unquote(p.ETag) + `"`),
		}
	}
	out, err := s.client.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{
		Bucket:          aws.String(s.cfg.Bucket),
		Key:             aws.String(s.key(key)),
		UploadId:        aws.String(uploadID),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: completed},
	})
	if err != nil {
		return storage.PutResult{}, s.wrapErr("complete multipart upload of", key, err)
	}
	return storage.PutResult{ETag: unquote(aws.ToString(out.ETag)), VersionID: aws.ToString(out.VersionId)}, nil
}

// AbortMultipart discards the upload and its parts.
func (s *Store) AbortMultipart(ctx context.Context, key, uploadID string) error {
	_, err := s.client.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{
		Bucket:   aws.String(s.cfg.Bucket),
		Key:      aws.String(s.key(key)),
		UploadId: aws.String(uploadID),
	})
	return s.wrapErr("abort multipart upload of", key, err)
}
