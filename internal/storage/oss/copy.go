package oss

import (
	"context"
	"fmt"
	"strings"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"golang.org/x/sync/errgroup"

	"github.com/ossimport/ossimport/internal/storage"
)

// CopyFrom implements storage.ServerSideCopier. src must be an OSS store
// reached through the same endpoint (or its -internal twin) with the same
// access key; other stores yield ErrNotSupported. Objects up to the copy
// threshold (1 GiB, the CopyObject limit) are copied in one request,
// larger ones part by part with UploadPartCopy. The copy is written with
// meta (x-oss-metadata-directive: REPLACE): content headers, user
// metadata, storage class and encryption, as Put writes them. When info
// has the source's CRC-64, the copy's must match.
func (s *Store) CopyFrom(ctx context.Context, dstKey string, src storage.Store, srcKey string, info storage.ObjectInfo, meta storage.Metadata) (storage.PutResult, error) {
	what := fmt.Sprintf("copy %q to %q", srcKey, dstKey)
	from, ok := src.(*Store)
	if !ok || from.region != s.region || from.endpoint != s.endpoint || from.account != s.account {
		return storage.PutResult{}, fmt.Errorf("%s in %s: %w: %s is not in the same OSS region and account", what, s, storage.ErrNotSupported, src)
	}
	if err := storage.CheckOSSKey(dstKey); err != nil {
		return storage.PutResult{}, fmt.Errorf("%s in %s: %w", what, s, err)
	}
	var res storage.PutResult
	var err error
	if info.Size <= s.opts.copyThreshold || info.Size == 0 {
		res, err = s.copyObject(ctx, what, from.bucket, srcKey, dstKey, meta)
	} else {
		res, err = s.copyParts(ctx, what, from.bucket, srcKey, dstKey, meta)
	}
	if err != nil {
		return res, err
	}
	if want := info.Checksums; want.HasCRC64 && res.Checksums.HasCRC64 && res.Checksums.CRC64 != want.CRC64 {
		return res, s.crcMismatch(what, res.Checksums.CRC64, want.CRC64, "the source has")
	}
	return res, nil
}

// copyObject copies with one CopyObject request.
func (s *Store) copyObject(ctx context.Context, what, srcBucket, srcKey, dstKey string, meta storage.Metadata) (storage.PutResult, error) {
	res, err := s.client.CopyObject(ctx, &oss.CopyObjectRequest{
		Bucket:               oss.Ptr(s.bucket),
		Key:                  oss.Ptr(dstKey),
		SourceBucket:         oss.Ptr(srcBucket),
		SourceKey:            oss.Ptr(srcKey),
		MetadataDirective:    oss.Ptr("REPLACE"),
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
		return storage.PutResult{}, s.wrap(what, err)
	}
	return storage.PutResult{
		ETag:      strings.Trim(oss.ToString(res.ETag), `"`),
		Checksums: checksums(res.Headers),
		VersionID: oss.ToString(res.VersionId),
	}, nil
}

// copyParts copies with a multipart upload whose parts are copied from
// the source, a few at a time. Every part is copied only if the source
// still has the ETag it had at the start; on failure the upload is
// aborted.
func (s *Store) copyParts(ctx context.Context, what, srcBucket, srcKey, dstKey string, meta storage.Metadata) (storage.PutResult, error) {
	head, err := s.client.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(srcBucket), Key: oss.Ptr(srcKey)})
	if err != nil {
		return storage.PutResult{}, s.wrap(what, err)
	}
	if needsRestore(oss.ToString(head.StorageClass), oss.ToString(head.Restore)) {
		return storage.PutResult{}, fmt.Errorf("%s in %s: %w: restore it first (RestoreObject, or ossutil restore)",
			what, s, storage.ErrNeedsRestore)
	}
	id, err := s.CreateMultipart(ctx, dstKey, meta)
	if err != nil {
		return storage.PutResult{}, err
	}
	src := copySource{bucket: srcBucket, key: srcKey, etag: oss.ToString(head.ETag), size: head.ContentLength}
	parts, err := s.copyPartsOf(ctx, dstKey, id, src)
	if err == nil {
		var res storage.PutResult
		if res, err = s.CompleteMultipart(ctx, dstKey, id, parts); err == nil {
			return res, nil
		}
	}
	_ = s.AbortMultipart(context.WithoutCancel(ctx), dstKey, id)
	return storage.PutResult{}, err
}

// copySource is the object a multipart copy reads.
type copySource struct {
	bucket, key, etag string
	size              int64
}

// copyPartsOf copies src into the parts of upload id.
func (s *Store) copyPartsOf(ctx context.Context, dstKey, id string, src copySource) ([]storage.Part, error) {
	partSize := max(s.opts.copyPartSize, (src.size+maxParts-1)/maxParts, minPartSize)
	parts := make([]storage.Part, (src.size+partSize-1)/partSize)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.opts.copyConcurrency)
	for i := range parts {
		off := int64(i) * partSize
		n := min(partSize, src.size-off)
		g.Go(func() error {
			res, err := s.client.UploadPartCopy(gctx, &oss.UploadPartCopyRequest{
				Bucket:       oss.Ptr(s.bucket),
				Key:          oss.Ptr(dstKey),
				UploadId:     oss.Ptr(id),
				PartNumber:   int32(i + 1),
				SourceBucket: oss.Ptr(src.bucket),
				SourceKey:    oss.Ptr(src.key),
				Range:        oss.Ptr(fmt.Sprintf("bytes=%d-%d", off, off+n-1)),
				IfMatch:      ptr(src.etag),
			})
			if err != nil {
				return s.wrap(fmt.Sprintf("copy part %d of %q to %q", i+1, src.key, dstKey), err)
			}
			parts[i] = storage.Part{Number: i + 1, Size: n, ETag: strings.Trim(oss.ToString(res.ETag), `"`), Checksums: checksums(res.Headers)}
			return nil
		})
	}
	return parts, g.Wait()
}
