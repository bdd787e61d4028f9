package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ossimport/ossimport/internal/storage"
)

// Stat reads an object's attributes and metadata with HeadObject. Restore
// is set for archived objects (GLACIER, DEEP_ARCHIVE and the like, or an
// Intelligent-Tiering archive tier) without a completed restore.
func (s *Store) Stat(ctx context.Context, key string) (storage.ObjectInfo, error) {
	out, err := s.client.HeadObject(ctx, &awss3.HeadObjectInput{
		Bucket: aws.String(s.cfg.Bucket),
		Key:    aws.String(s.key(key)),
	})
	if err != nil {
		return storage.ObjectInfo{}, s.wrapErr("stat", key, err)
	}
	class := string(out.StorageClass)
	archived := isArchiveClass(class) || out.ArchiveStatus != ""
	return storage.ObjectInfo{
		Key:          key,
		Size:         aws.ToInt64(out.ContentLength),
		ModTime:      aws.ToTime(out.LastModified),
		ETag:         unquote(aws.ToString(out.ETag)),
		StorageClass: class,
		IsDir:        strings.HasSuffix(key, "/"),
		Restore:      archived && !restoreDone(aws.ToString(out.Restore)),
		Meta: storage.Metadata{
			ContentType:          aws.ToString(out.ContentType),
			CacheControl:         aws.ToString(out.CacheControl),
			ContentDisposition:   aws.ToString(out.ContentDisposition),
			ContentEncoding:      aws.ToString(out.ContentEncoding),
			ContentLanguage:      aws.ToString(out.ContentLanguage),
			Expires:              aws.ToString(out.ExpiresString),
			User:                 lowerKeys(out.Metadata),
			StorageClass:         class,
			ServerSideEncryption: string(out.ServerSideEncryption),
		},
	}, nil
}

// restoreDone reports whether an x-amz-restore header says a restored
// copy is available: ongoing-request="false", expiry-date="...".
func restoreDone(header string) bool {
	return strings.Contains(strings.ReplaceAll(header, " ", ""), `ongoing-request="false"`)
}

// lowerKeys returns user metadata with lower-case keys, nil when empty.
func lowerKeys(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}

// Open reads length bytes from offset with a ranged GetObject (length < 0
// reads to the end). An archived object yields ErrNeedsRestore.
func (s *Store) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if offset < 0 {
		return nil, fmt.Errorf("open %q: negative offset %d", key, offset)
	}
	if length == 0 {
		if _, err := s.Stat(ctx, key); err != nil {
			return nil, err
		}
		return io.NopCloser(strings.NewReader("")), nil
	}
	in := &awss3.GetObjectInput{
		Bucket: aws.String(s.cfg.Bucket),
		Key:    aws.String(s.key(key)),
		Range:  optional(storage.RangeHeader(offset, length)),
	}
	out, err := s.client.GetObject(ctx, in)
	if err != nil {
		if code, _ := errorCodeStatus(err); code == "InvalidRange" && length < 0 {
			return s.openAtEnd(ctx, key, offset, err)
		}
		return nil, s.wrapErr("open", key, err)
	}
	return &body{rc: out.Body, key: key}, nil
}

// openAtEnd answers a read from the very end of an object, which S3
// refuses as an invalid range, with an empty reader.
func (s *Store) openAtEnd(ctx context.Context, key string, offset int64, rangeErr error) (io.ReadCloser, error) {
	info, err := s.Stat(ctx, key)
	if err != nil {
		return nil, err
	}
	if offset != info.Size {
		return nil, fmt.Errorf("open %q at offset %d of %d bytes: %w", key, offset, info.Size, rangeErr)
	}
	return io.NopCloser(strings.NewReader("")), nil
}

// body is an object's content. Read errors name the key, and a response
// cut short is marked transient.
type body struct {
	rc  io.ReadCloser
	key string
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("read %q: %w", b.key, err)
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = storage.Transient(err)
		}
	}
	return n, err
}

func (b *body) Close() error { return b.rc.Close() }
