package s3

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strconv"

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

// UploadPart stores part n of an upload; the body rules of Put apply,
// and so does Config.TrailingCRC32C.
func (s *Store) UploadPart(ctx context.Context, key, uploadID string, n int, r io.Reader, size int64) (storage.Part, error) {
	what := fmt.Sprintf("upload part %d of", n)
	if n < 1 || n > MaxParts {
		return storage.Part{}, fmt.Errorf("%s %q: part number out of range 1-%d", what, key, MaxParts)
	}
	body, optFns, err := s.requestBody(r, size)
	if err != nil {
		return storage.Part{}, fmt.Errorf("%s %q: %w", what, key, err)
	}
	var w written
	if once, ok := body.(*onceReader); ok && s.cfg.TrailingCRC32C {
		w, err = s.uploadPartTrailer(ctx, key, uploadID, n, once, size, optFns)
	} else {
		w, err = s.uploadPartSDK(ctx, s.partInput(key, uploadID, n, body, size), optFns)
	}
	if err != nil {
		return storage.Part{}, s.wrapErr(what, key, err)
	}
	part := storage.Part{Number: n, Size: size, ETag: unquote(w.etag)}
	if s.cfg.TrailingCRC32C {
		if part.Checksums, err = parseCRC32C(w.crc32c); err != nil {
			return storage.Part{}, fmt.Errorf("%s %q: %w: %s", what, key, err, s)
		}
	}
	return part, nil
}

func (s *Store) partInput(key, uploadID string, n int, body io.Reader, size int64) *awss3.UploadPartInput {
	in := &awss3.UploadPartInput{
		Bucket:        aws.String(s.cfg.Bucket),
		Key:           aws.String(s.key(key)),
		UploadId:      aws.String(uploadID),
		PartNumber:    aws.Int32(int32(n)),
		Body:          body,
		ContentLength: aws.Int64(size),
	}
	if s.cfg.TrailingCRC32C {
		if _, framed := body.(*chunkedBody); !framed {
			in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32c // the SDK hashes the seekable body
		}
	}
	return in
}

func (s *Store) uploadPartSDK(ctx context.Context, in *awss3.UploadPartInput, optFns []func(*awss3.Options)) (written, error) {
	out, err := s.client.UploadPart(ctx, in, optFns...)
	if err != nil {
		return written{}, err
	}
	return written{etag: aws.ToString(out.ETag), crc32c: aws.ToString(out.ChecksumCRC32C)}, nil
}

// uploadPartTrailer sends a streamed part with its CRC-32C in a trailer,
// directly or through the SDK (trailer.go).
func (s *Store) uploadPartTrailer(ctx context.Context, key, uploadID string, n int, once *onceReader, size int64, optFns []func(*awss3.Options)) (written, error) {
	body := newChunkedBody(once, once.r, size, s.flipCRC32C)
	query := url.Values{"partNumber": {strconv.Itoa(n)}, "uploadId": {uploadID}}
	h, sent, err := s.direct.send(ctx, directRequest{op: "UploadPart", key: s.key(key), query: query, body: body, size: size, trailer: true})
	if sent {
		if err != nil {
			return written{}, err
		}
		return writtenFrom(h), nil
	}
	optFns = append(sdkTrailerOptions(optFns, size), withHeader("Content-Encoding", trailerContentEncoding("")))
	return s.uploadPartSDK(ctx, s.partInput(key, uploadID, n, body, encodedLength(size)), optFns)
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
			part := storage.Part{
				Number: int(aws.ToInt32(p.PartNumber)),
				Size:   aws.ToInt64(p.Size),
				ETag:   unquote(aws.ToString(p.ETag)),
			}
			if part.Checksums, err = parseCRC32C(aws.ToString(p.ChecksumCRC32C)); err != nil {
				return nil, fmt.Errorf("list parts of %q: part %d: %w: %s", key, part.Number, err, s)
			}
			parts = append(parts, part)
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
