package s3

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"

	"github.com/ossimport/ossimport/internal/storage"
)

// copyConcurrency is how many UploadPartCopy requests run at once.
const copyConcurrency = 4

// abortTimeout bounds the cleanup of a failed copy in parts, which runs
// even when the caller's context is done.
const abortTimeout = 30 * time.Second

// CopyFrom copies srcKey of src into dstKey without the data passing
// through us. src must be a *Store on the same endpoint, region and
// credentials (any bucket); otherwise the error wraps ErrNotSupported.
// Objects up to Config.CopyThreshold (5 GiB) take one CopyObject request,
// larger ones a multipart upload of UploadPartCopy parts. The copy is
// written with meta (MetadataDirective REPLACE): content headers, user
// metadata, storage class and encryption, as Put writes them.
func (s *Store) CopyFrom(ctx context.Context, dstKey string, src storage.Store, srcKey string, info storage.ObjectInfo, meta storage.Metadata) (storage.PutResult, error) {
	from, ok := src.(*Store)
	if !ok || from.service != s.service {
		return storage.PutResult{}, fmt.Errorf("copy %s %q to %s %q: %w: the stores are on different services or accounts",
			src, srcKey, s, dstKey, storage.ErrNotSupported)
	}
	if info.Size > s.copyThreshold() {
		return s.copyParts(ctx, dstKey, from, srcKey, meta)
	}
	return s.copyObject(ctx, dstKey, from, srcKey, meta)
}

// copyThreshold is the largest object one CopyObject request copies.
func (s *Store) copyThreshold() int64 {
	if s.cfg.CopyThreshold > 0 {
		return s.cfg.CopyThreshold
	}
	return MaxPartSize
}

// copyObject copies with one CopyObject request.
func (s *Store) copyObject(ctx context.Context, dstKey string, from *Store, srcKey string, meta storage.Metadata) (storage.PutResult, error) {
	in := &awss3.CopyObjectInput{
		Bucket:               aws.String(s.cfg.Bucket),
		Key:                  aws.String(s.key(dstKey)),
		CopySource:           aws.String(copySource(from.cfg.Bucket, from.key(srcKey))),
		MetadataDirective:    types.MetadataDirectiveReplace,
		ContentType:          optional(meta.ContentType),
		CacheControl:         optional(meta.CacheControl),
		ContentDisposition:   optional(meta.ContentDisposition),
		ContentEncoding:      optional(meta.ContentEncoding),
		ContentLanguage:      optional(meta.ContentLanguage),
		Metadata:             meta.User,
		StorageClass:         types.StorageClass(meta.StorageClass),
		ServerSideEncryption: types.ServerSideEncryption(meta.ServerSideEncryption),
	}
	out, err := s.client.CopyObject(ctx, in, expires(nil, meta)...)
	if err != nil {
		return storage.PutResult{}, s.wrapErr("copy "+strconv.Quote(srcKey)+" to", dstKey, err)
	}
	res := storage.PutResult{VersionID: aws.ToString(out.VersionId)}
	if out.CopyObjectResult != nil {
		res.ETag = unquote(aws.ToString(out.CopyObjectResult.ETag))
	}
	return res, nil
}

// copyParts copies a large object with UploadPartCopy, aborting the upload
// if any part fails.
func (s *Store) copyParts(ctx context.Context, dstKey string, from *Store, srcKey string, meta storage.Metadata) (storage.PutResult, error) {
	info, err := from.Stat(ctx, srcKey)
	if err != nil {
		return storage.PutResult{}, err
	}
	if info.Size <= s.copyThreshold() {
		return s.copyObject(ctx, dstKey, from, srcKey, meta) // it shrank since it was listed
	}
	uploadID, err := s.CreateMultipart(ctx, dstKey, meta)
	if err != nil {
		return storage.PutResult{}, err
	}
	parts, err := s.copyPartRanges(ctx, dstKey, uploadID, from, srcKey, info.Size)
	if err == nil {
		var res storage.PutResult
		if res, err = s.CompleteMultipart(ctx, dstKey, uploadID, parts); err == nil {
			return res, nil
		}
	}
	abortCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	_ = s.AbortMultipart(abortCtx, dstKey, uploadID) // the copy error is the one worth reporting
	return storage.PutResult{}, err
}

// copyPartRanges runs the UploadPartCopy requests of one upload.
func (s *Store) copyPartRanges(ctx context.Context, dstKey, uploadID string, from *Store, srcKey string, size int64) ([]storage.Part, error) {
	partSize := s.copyPartSize(size)
	count := int((size + partSize - 1) / partSize)
	parts := make([]storage.Part, count)
	source := aws.String(copySource(from.cfg.Bucket, from.key(srcKey)))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(copyConcurrency)
	for i := range count {
		first := int64(i) * partSize
		last := min(first+partSize, size) - 1
		g.Go(func() error {
			what := fmt.Sprintf("copy %q bytes %d-%d to", srcKey, first, last)
			out, err := s.client.UploadPartCopy(gctx, &awss3.UploadPartCopyInput{
				Bucket:          aws.String(s.cfg.Bucket),
				Key:             aws.String(s.key(dstKey)),
				UploadId:        aws.String(uploadID),
				PartNumber:      aws.Int32(int32(i + 1)),
				CopySource:      source,
				CopySourceRange: aws.String(fmt.Sprintf("bytes=%d-%d", first, last)),
			})
			if err != nil {
				return s.wrapErr(what, dstKey, err)
			}
			parts[i] = storage.Part{Number: i + 1, Size: last - first + 1}
			if out.CopyPartResult != nil {
				parts[i].ETag = unquote(aws.ToString(out.CopyPartResult.ETag))
			}
			return nil
		})
	}
	return parts, g.Wait()
}

// copyPartSize picks the part size of a copy in parts: the configured
// size, raised to a whole MiB that keeps the count within MaxParts.
func (s *Store) copyPartSize(size int64) int64 {
	partSize := s.cfg.CopyPartSize
	if partSize <= 0 {
		partSize = defaultCopyPartSize
	}
	partSize = max(partSize, MinPartSize)
	if least := (size + MaxParts - 1) / MaxParts; partSize < least {
		partSize = (least + mib - 1) / mib * mib
	}
	return partSize
}

// copySource builds the x-amz-copy-source value "bucket/key", escaping
// every byte of the key but unreserved characters and "/".
func copySource(bucket, key string) string {
	return bucket + "/" + storage.EscapePath(key)
}
