package azure

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"

	"github.com/ossimport/ossimport/internal/storage"
)

// Stat returns the blob's properties: size, Last-Modified, ETag,
// Content-MD5 (when the uploader set one), the Content-* headers, the
// metadata (keys in lower case) and the access tier as StorageClass. A
// blob in the Archive tier has Restore set: it must be rehydrated to an
// online tier before Open can read it.
func (s *Store) Stat(ctx context.Context, key string) (storage.ObjectInfo, error) {
	if key == "" {
		return storage.ObjectInfo{}, fmt.Errorf("stat %q: %w: the name is empty", key, storage.ErrInvalidKey)
	}
	props, err := s.client.NewBlobClient(key).GetProperties(ctx, nil)
	if err != nil {
		return storage.ObjectInfo{}, s.wrapErr("stat", key, err)
	}
	return infoOf(key, &props), nil
}

// infoOf converts a GetProperties response.
func infoOf(key string, p *blob.GetPropertiesResponse) storage.ObjectInfo {
	info := storage.ObjectInfo{Key: key, IsDir: strings.HasSuffix(key, "/")}
	if p.ContentLength != nil {
		info.Size = *p.ContentLength
	}
	if p.LastModified != nil {
		info.ModTime = *p.LastModified
	}
	if p.ETag != nil {
		info.ETag = unquote(string(*p.ETag))
	}
	if len(p.ContentMD5) == 16 {
		info.Checksums.MD5 = p.ContentMD5
	}
	if p.AccessTier != nil {
		info.StorageClass, info.Restore = tierOf(*p.AccessTier, p.AccessTierInferred)
	}
	info.Meta = storage.Metadata{
		ContentType:        deref(p.ContentType),
		CacheControl:       deref(p.CacheControl),
		ContentDisposition: deref(p.ContentDisposition),
		ContentEncoding:    deref(p.ContentEncoding),
		ContentLanguage:    deref(p.ContentLanguage),
	}
	if len(p.Metadata) > 0 {
		info.Meta.User = make(map[string]string, len(p.Metadata))
		for k, v := range p.Metadata {
			info.Meta.User[strings.ToLower(k)] = deref(v)
		}
	}
	return info
}

// Open reads length bytes of the blob from offset (to the end when length
// < 0) with one ranged download. A blob in the Archive tier fails with
// ErrNeedsRestore. Errors while reading the body (a dropped connection, a
// response shorter than announced) are marked transient.
func (s *Store) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if offset < 0 {
		return nil, fmt.Errorf("open %q: negative offset %d", key, offset)
	}
	if key == "" {
		return nil, fmt.Errorf("open %q: %w: the name is empty", key, storage.ErrInvalidKey)
	}
	bc := s.client.NewBlobClient(key)
	if length == 0 {
		// Azure reads "count 0" as "to the end": check the blob exists
		// and return nothing.
		if _, err := bc.GetProperties(ctx, nil); err != nil {
			return nil, s.wrapErr("open", key, err)
		}
		return io.NopCloser(strings.NewReader("")), nil
	}
	rng := blob.HTTPRange{Offset: offset}
	if length > 0 {
		rng.Count = length
	}
	resp, err := bc.DownloadStream(ctx, &blob.DownloadStreamOptions{Range: rng})
	if err != nil {
		return nil, s.wrapErr("open", key, err)
	}
	return &bodyReader{body: resp.Body, key: key}, nil
}

// bodyReader marks errors met while reading a download as transient: the
// response ended early or the connection dropped, and reading the same
// range again may succeed.
type bodyReader struct {
	body io.ReadCloser
	key  string
}

func (r *bodyReader) Read(p []byte) (int, error) {
	n, err := r.body.Read(p)
	if err != nil && err != io.EOF && !errors.Is(err, context.Canceled) {
		err = storage.Transient(fmt.Errorf("read %q: %w", r.key, err))
	}
	return n, err
}

func (r *bodyReader) Close() error { return r.body.Close() }
