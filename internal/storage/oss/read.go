package oss

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"hash/crc64"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossimport/ossimport/internal/storage"
)

var crcTable = crc64.MakeTable(crc64.ECMA)

// Stat implements storage.Reader with HeadObject. Meta holds the
// Content-* headers and user metadata; the storage class is reported in
// StorageClass only, so copying Meta to another store does not archive
// the copy.
func (s *Store) Stat(ctx context.Context, key string) (storage.ObjectInfo, error) {
	res, err := s.client.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(s.bucket), Key: oss.Ptr(key)})
	if err != nil {
		return storage.ObjectInfo{}, s.wrap(fmt.Sprintf("stat %q", key), err)
	}
	class := oss.ToString(res.StorageClass)
	info := storage.ObjectInfo{
		Key:          key,
		Size:         res.ContentLength,
		ETag:         strings.Trim(oss.ToString(res.ETag), `"`),
		Checksums:    checksums(res.Headers),
		StorageClass: class,
		IsDir:        strings.HasSuffix(key, "/"),
		Restore:      needsRestore(class, oss.ToString(res.Restore)),
		Meta:         metadata(res.Headers, res.Metadata),
	}
	if res.LastModified != nil {
		info.ModTime = *res.LastModified
	}
	return info, nil
}

// checksums reads the CRC-64 and content MD5 headers of a response.
func checksums(h http.Header) storage.Checksums {
	var c storage.Checksums
	if v := h.Get("X-Oss-Hash-Crc64ecma"); v != "" {
		if crc, err := strconv.ParseUint(v, 10, 64); err == nil {
			c.CRC64, c.HasCRC64 = crc, true
		}
	}
	if v := h.Get("Content-Md5"); v != "" {
		if sum, err := base64.StdEncoding.DecodeString(v); err == nil && len(sum) == 16 {
			c.MD5 = sum
		}
	}
	return c
}

// metadata collects the object metadata of a HeadObject answer.
func metadata(h http.Header, user map[string]string) storage.Metadata {
	m := storage.Metadata{
		ContentType:        h.Get("Content-Type"),
		CacheControl:       h.Get("Cache-Control"),
		ContentDisposition: h.Get("Content-Disposition"),
		ContentEncoding:    h.Get("Content-Encoding"),
		ContentLanguage:    h.Get("Content-Language"),
		Expires:            h.Get("Expires"),
	}
	if len(user) > 0 {
		m.User = make(map[string]string, len(user))
		for k, v := range user {
			m.User[strings.ToLower(k)] = v
		}
	}
	return m
}

// Open implements storage.Reader with GetObject. Reading the whole object
// checks its CRC-64 against x-oss-hash-crc64ecma at the end, and every
// read checks that the body is as long as announced; a mismatch is an
// error from Read, never silently short or wrong data.
func (s *Store) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	what := fmt.Sprintf("open %q", key)
	if offset < 0 {
		return nil, fmt.Errorf("%s in %s: negative offset %d", what, s, offset)
	}
	if length == 0 {
		if _, err := s.Stat(ctx, key); err != nil {
			return nil, err
		}
		return io.NopCloser(strings.NewReader("")), nil
	}
	req := &oss.GetObjectRequest{Bucket: oss.Ptr(s.bucket), Key: oss.Ptr(key), Range: ptr(storage.RangeHeader(offset, length))}
	if req.Range != nil {
		// Fail on a range beyond the end instead of getting the whole object.
		req.RangeBehavior = oss.Ptr("standard")
	}
	res, err := s.client.GetObject(ctx, req)
	if err != nil {
		return nil, s.wrap(what, err)
	}
	want := res.ContentLength
	if res.Headers.Get("Content-Length") == "" {
		// A chunked answer announces no length (the SDK reads that as
		// 0): the body's end is the object's end, still CRC-checked.
		want = -1
	}
	if req.Range != nil && res.StatusCode == http.StatusOK && (offset > 0 || res.ContentLength > length || want < 0) {
		_ = res.Body.Close()
		return nil, fmt.Errorf("%s in %s: the server ignored the byte range %s", what, s, *req.Range)
	}
	r := &objectReader{body: res.Body, store: s, what: fmt.Sprintf("read %q", key), want: want}
	if whole(offset, res) {
		if c := checksums(res.Headers); c.HasCRC64 {
			r.crc, r.wantCRC = crc64.New(crcTable), c.CRC64
		}
	}
	return r, nil
}

// whole reports whether a GetObject answer carries the whole object.
func whole(offset int64, res *oss.GetObjectResult) bool {
	if res.StatusCode == http.StatusOK {
		return true
	}
	_, _, total := storage.ParseContentRange(oss.ToString(res.ContentRange))
	return offset == 0 && total >= 0 && total == res.ContentLength
}

// objectReader checks the length and, for whole objects, the CRC-64 of
// a GetObject body as it is read.
type objectReader struct {
	body    io.ReadCloser
	store   *Store
	what    string
	want    int64 // bytes announced, < 0 when unknown
	got     int64
	crc     hash.Hash64 // nil when not checking
	wantCRC uint64
	err     error // sticky
}

func (r *objectReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n, err := r.body.Read(p)
	r.got += int64(n)
	if r.crc != nil {
		r.crc.Write(p[:n])
	}
	switch {
	case r.want >= 0 && r.got > r.want:
		err = storage.Transient(fmt.Errorf("%s in %s: got more than the %d bytes announced", r.what, r.store, r.want))
	case errors.Is(err, io.EOF) && r.want >= 0 && r.got < r.want:
		err = storage.Transient(fmt.Errorf("%s in %s: body ended after %d of %d bytes: %w", r.what, r.store, r.got, r.want, io.ErrUnexpectedEOF))
	case errors.Is(err, io.EOF) && r.crc != nil && r.crc.Sum64() != r.wantCRC:
		err = r.store.crcMismatch(r.what, r.wantCRC, r.crc.Sum64(), "the data read has")
	case err != nil && !errors.Is(err, io.EOF):
		err = r.store.wrap(r.what, err)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		r.err = err
	}
	return n, err
}

func (r *objectReader) Close() error { return r.body.Close() }
