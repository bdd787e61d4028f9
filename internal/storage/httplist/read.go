package httplist

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/ossimport/ossimport/internal/storage"
)

// Stat sends a HEAD request to the key's URL and reports Content-Length
// as Size (-1 when the server does not say), Last-Modified as ModTime,
// the ETag, a Content-MD5 if the server sends one, and the Content-*,
// Cache-Control and Expires headers as Meta. Servers that refuse HEAD
// (405, 501, or 403 as S3 and OSS do for URLs signed for GET only) are
// asked for the first byte with a GET instead, and the size read from
// Content-Range.
func (s *Store) Stat(ctx context.Context, key string) (storage.ObjectInfo, error) {
	e, err := s.list.lookup(ctx, key)
	if err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("stat %q: %w", key, err)
	}
	resp, err := s.do(ctx, http.MethodHead, e.url(), "")
	if err != nil {
		return storage.ObjectInfo{}, requestErr("stat", key, err)
	}
	_ = resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		info := infoOf(key, resp.Header)
		info.Size = resp.ContentLength
		if info.Size < 0 {
			return s.statByGet(ctx, e)
		}
		return info, nil
	case http.StatusMethodNotAllowed, http.StatusNotImplemented, http.StatusForbidden:
		return s.statByGet(ctx, e)
	}
	return storage.ObjectInfo{}, statusErr("stat", key, resp)
}

// statByGet asks for the first byte and reads the size from the response.
func (s *Store) statByGet(ctx context.Context, e entry) (storage.ObjectInfo, error) {
	resp, err := s.do(ctx, http.MethodGet, e.url(), "bytes=0-0")
	if err != nil {
		return storage.ObjectInfo{}, requestErr("stat", e.key, err)
	}
	_ = resp.Body.Close() // a server ignoring Range may send it all: do not read it
	info := infoOf(e.key, resp.Header)
	switch resp.StatusCode {
	case http.StatusOK:
		info.Size = resp.ContentLength
	case http.StatusPartialContent:
		info.Checksums.MD5 = nil // it would be the MD5 of the range
		_, _, info.Size = storage.ParseContentRange(resp.Header.Get("Content-Range"))
	case http.StatusRequestedRangeNotSatisfiable:
		// "bytes */0": the file is empty.
		if _, _, total := storage.ParseContentRange(resp.Header.Get("Content-Range")); total == 0 {
			info.Size = 0
			return info, nil
		}
		return storage.ObjectInfo{}, statusErr("stat", e.key, resp)
	default:
		return storage.ObjectInfo{}, statusErr("stat", e.key, resp)
	}
	return info, nil
}

// infoOf reads an object's description from response headers.
func infoOf(key string, h http.Header) storage.ObjectInfo {
	info := storage.ObjectInfo{Key: key, Size: -1, IsDir: strings.HasSuffix(key, "/")}
	if t, err := http.ParseTime(h.Get("Last-Modified")); err == nil {
		info.ModTime = t
	}
	etag := h.Get("ETag")
	if weak, ok := strings.CutPrefix(etag, "W/"); ok {
		info.ETag = "W/" + strings.Trim(weak, `"`)
	} else {
		info.ETag = strings.Trim(etag, `"`)
	}
	if sum, err := base64.StdEncoding.DecodeString(h.Get("Content-MD5")); err == nil && len(sum) == 16 {
		info.Checksums.MD5 = sum
	}
	info.Meta = storage.Metadata{
		ContentType:        h.Get("Content-Type"),
		CacheControl:       h.Get("Cache-Control"),
		ContentDisposition: h.Get("Content-Disposition"),
		ContentEncoding:    h.Get("Content-Encoding"),
		ContentLanguage:    h.Get("Content-Language"),
		Expires:            h.Get("Expires"),
	}
	return info
}

// do sends one request. It asks for the bytes as stored
// (Accept-Encoding: identity), so Go's transport does not decompress
// them and sizes agree with Content-Length.
func (s *Store) do(ctx context.Context, method, rawURL, rng string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, rawURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept-Encoding", "identity")
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	return s.client.Do(req)
}

// checkedBody delivers at most want bytes of body (all when want < 0)
// and, when exact, fails if the body ends before want: a truncated
// response is an error, never short data.
type checkedBody struct {
	body  io.ReadCloser
	key   string
	want  int64
	exact bool
	got   int64
}

func (b *checkedBody) Read(p []byte) (int, error) {
	if b.want >= 0 {
		if b.got >= b.want {
			return 0, io.EOF
		}
		if rest := b.want - b.got; int64(len(p)) > rest {
			p = p[:rest]
		}
	}
	n, err := b.body.Read(p)
	b.got += int64(n)
	switch {
	case err == io.EOF && b.exact && b.got < b.want:
		err = fmt.Errorf("read %q: %w: the response ended after %d of %d bytes", b.key, io.ErrUnexpectedEOF, b.got, b.want)
		return n, storage.Transient(err)
	case err != nil && err != io.EOF && !errors.Is(err, context.Canceled):
		return n, storage.Transient(fmt.Errorf("read %q: %w", b.key, err))
	}
	return n, err
}

func (b *checkedBody) Close() error { return b.body.Close() }

// Open downloads length bytes of key's URL from offset (to the end when
// length < 0), asking for a byte range unless the whole file is wanted.
//
// A server that ignores Range and answers 200 with the whole file is
// still read correctly from offset 0 (the body is cut at length); from a
// later offset Open fails with ErrNotSupported rather than download and
// throw away the bytes before it, so the caller can copy the file whole
// (the engine then reads it in one stream from offset 0 and feeds the
// multipart upload from it).
// Whenever the size is known (Content-Length, Content-Range) a body that
// ends early fails with a transient error wrapping io.ErrUnexpectedEOF.
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
	e, err := s.list.lookup(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("open %q: %w", key, err)
	}
	resp, err := s.do(ctx, http.MethodGet, e.url(), storage.RangeHeader(offset, length))
	if err != nil {
		return nil, requestErr("open", key, err)
	}
	want, exact, err := expectedLength(resp, key, offset, length)
	if err != nil {
		_ = resp.Body.Close()
		return nil, err
	}
	return &checkedBody{body: resp.Body, key: key, want: want, exact: exact}, nil
}

// expectedLength checks a GET response against the range asked for and
// returns how many body bytes to deliver (-1: all there are) and whether
// the body must have that many (exact) or may be shorter.
func expectedLength(resp *http.Response, key string, offset, length int64) (want int64, exact bool, err error) {
	limit := func(n int64) int64 {
		if length >= 0 && n > length {
			return length
		}
		return n
	}
	switch resp.StatusCode {
	case http.StatusOK:
		switch {
		case offset > 0:
			return 0, false, fmt.Errorf("open %q at offset %d: %w: %s %s ignored the Range request and sent the whole file",
				key, offset, storage.ErrNotSupported, resp.Request.Method, safeURL(resp.Request.URL))
		case resp.ContentLength < 0:
			return length, false, nil // unknown size: a short body may be the whole file
		}
		return limit(resp.ContentLength), true, nil
	case http.StatusPartialContent:
		first, last, _ := storage.ParseContentRange(resp.Header.Get("Content-Range"))
		if first != offset {
			return 0, false, fmt.Errorf("open %q: %s %s answered Content-Range %q for offset %d",
				key, resp.Request.Method, safeURL(resp.Request.URL), resp.Header.Get("Content-Range"), offset)
		}
		return limit(last - first + 1), true, nil
	case http.StatusRequestedRangeNotSatisfiable:
		if _, _, total := storage.ParseContentRange(resp.Header.Get("Content-Range")); total >= 0 && offset == total {
			return 0, true, nil // reading at the end: nothing to read
		}
	}
	return 0, false, statusErr("open", key, resp)
}
