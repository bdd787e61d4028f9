package youpai

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ossimport/ossimport/internal/storage"
)

// Stat returns what HEAD /<bucket>/<key> reports. A folder is an object
// only when key ends in "/" (then IsDir is set); otherwise it is missing.
func (s *Store) Stat(ctx context.Context, key string) (storage.ObjectInfo, error) {
	if key == "" {
		return storage.ObjectInfo{}, fmt.Errorf("stat: %w: the key is empty", storage.ErrInvalidKey)
	}
	req, err := s.apiRequest(ctx, http.MethodHead, key)
	if err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("stat %q: %w", key, err)
	}
	resp, err := s.send(req, "stat", key)
	if err != nil {
		return storage.ObjectInfo{}, err
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		return storage.ObjectInfo{}, failure("stat", key, resp, false)
	}
	isDir := resp.Header.Get("x-upyun-file-type") == "folder"
	if isDir != strings.HasSuffix(key, "/") {
		kind := "a file"
		if isDir {
			kind = "a folder"
		}
		return storage.ObjectInfo{}, fmt.Errorf("stat %q: %w: it is %s", key, storage.ErrNotExist, kind)
	}
	info := infoFromHeader(key, resp.Header)
	info.IsDir = isDir
	return info, nil
}

// infoFromHeader reads the object description of a HEAD or GET response.
func infoFromHeader(key string, h http.Header) storage.ObjectInfo {
	info := storage.ObjectInfo{Key: key, ETag: trimETag(h.Get("ETag"))}
	if n, err := strconv.ParseInt(h.Get("x-upyun-file-size"), 10, 64); err == nil {
		info.Size = n
	} else if n, err := strconv.ParseInt(h.Get("Content-Length"), 10, 64); err == nil {
		info.Size = n
	}
	if sec, err := strconv.ParseInt(h.Get("x-upyun-file-date"), 10, 64); err == nil {
		info.ModTime = time.Unix(sec, 0).UTC()
	} else if t, err := http.ParseTime(h.Get("Last-Modified")); err == nil {
		info.ModTime = t.UTC()
	}
	info.Checksums.MD5 = parseMD5(h.Get("Content-MD5"))
	info.Meta.ContentType = h.Get("Content-Type")
	for name, values := range h {
		lower := strings.ToLower(name)
		if rest, ok := strings.CutPrefix(lower, "x-upyun-meta-"); ok && rest != "" && len(values) > 0 {
			if info.Meta.User == nil {
				info.Meta.User = map[string]string{}
			}
			info.Meta.User[rest] = values[0]
		}
	}
	return info
}

// parseMD5 accepts UPYUN's 32 hex digits and the RFC 1864 Base64 form.
func parseMD5(v string) []byte {
	v = strings.Trim(strings.TrimSpace(v), `"`)
	if b, err := hex.DecodeString(v); err == nil && len(b) == md5.Size {
		return b
	}
	if b, err := base64.StdEncoding.DecodeString(v); err == nil && len(b) == md5.Size {
		return b
	}
	return nil
}

func trimETag(v string) string {
	return strings.Trim(strings.TrimPrefix(strings.TrimSpace(v), "W/"), `"`)
}

// Open downloads length bytes of key from offset (length < 0: to the
// end), from the API or, with DownloadFromCDN, from the CDN. A whole-object
// read is checked against the Content-MD5 the API reports.
func (s *Store) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	switch {
	case key == "" || strings.HasSuffix(key, "/"):
		return nil, fmt.Errorf("open %q: %w: a folder has no content", key, storage.ErrNotExist)
	case offset < 0:
		return nil, fmt.Errorf("open %q: negative offset %d", key, offset)
	case length == 0:
		if _, err := s.Stat(ctx, key); err != nil {
			return nil, err
		}
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	req, op, err := s.downloadRequest(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("open %q: %w", key, err)
	}
	if rng := storage.RangeHeader(offset, length); rng != "" {
		req.Header.Set("Range", rng)
	}
	resp, err := s.send(req, op, key)
	if err != nil {
		return nil, err
	}
	body, err := s.checkDownload(resp, op, key, offset, length)
	if err != nil {
		drain(resp)
		return nil, err
	}
	return body, nil
}

// downloadRequest builds the GET for key, signed for the API or plain for
// the CDN, and names the operation for errors.
func (s *Store) downloadRequest(ctx context.Context, key string) (*http.Request, string, error) {
	if s.cdn == nil {
		req, err := s.apiRequest(ctx, http.MethodGet, key)
		return req, "download", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.cdn.String()+"/"+storage.EscapePath(key), nil)
	return req, "download from CDN", err
}

// checkDownload turns a GET response into the reader Open returns.
func (s *Store) checkDownload(resp *http.Response, op, key string, offset, length int64) (io.ReadCloser, error) {
	cdn := s.cdn != nil
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusPartialContent:
		if first, _, _ := storage.ParseContentRange(resp.Header.Get("Content-Range")); first != offset {
			return nil, storage.Transient(fmt.Errorf("%s %q: asked for bytes from %d, got range %q",
				op, key, offset, resp.Header.Get("Content-Range")))
		}
		return &body{rc: resp.Body, key: key}, nil
	case http.StatusRequestedRangeNotSatisfiable:
		// Reading from the end of the object yields nothing.
		if _, _, size := storage.ParseContentRange(resp.Header.Get("Content-Range")); size >= 0 && offset >= size {
			drain(resp)
			return io.NopCloser(bytes.NewReader(nil)), nil
		}
		return nil, failure(op, key, resp, cdn)
	default:
		return nil, failure(op, key, resp, cdn)
	}
	if !cdn && resp.Header.Get("x-upyun-list-iter") != "" {
		return nil, fmt.Errorf("%s %q: %w: it is a folder", op, key, storage.ErrNotExist)
	}
	b := &body{rc: resp.Body, key: key}
	if offset > 0 || length > 0 {
		// The server ignored Range (some CDNs do): cut the range out.
		if _, err := io.CopyN(io.Discard, resp.Body, offset); err != nil && err != io.EOF {
			return nil, storage.Transient(fmt.Errorf("%s %q: skip to %d: %w", op, key, offset, err))
		}
		if length > 0 {
			return &limited{Reader: io.LimitReader(b, length), Closer: b}, nil
		}
		return b, nil
	}
	if want := parseMD5(resp.Header.Get("Content-MD5")); want != nil && !cdn {
		b.want, b.sum = want, md5.New()
	}
	return b, nil
}

// body is a download: read errors are transient (the caller reopens) and
// a whole-object read is checked against the MD5 the server announced.
type body struct {
	rc   io.ReadCloser
	key  string
	want []byte    // expected MD5, nil when not checked
	sum  hash.Hash // running MD5 when checked
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if b.sum != nil {
		b.sum.Write(p[:n])
	}
	switch {
	case err == io.EOF && b.sum != nil:
		if got := b.sum.Sum(nil); !bytes.Equal(got, b.want) {
			return n, storage.Transient(fmt.Errorf("read %q: %w: MD5 %x, the server announced %x",
				b.key, storage.ErrChecksumMismatch, got, b.want))
		}
	case err != nil && err != io.EOF:
		return n, storage.Transient(fmt.Errorf("read %q: %w", b.key, err))
	}
	return n, err
}

func (b *body) Close() error { return b.rc.Close() }

type limited struct {
	io.Reader
	io.Closer
}

// drain reads a little of what is left so the connection can be reused,
// then closes the body.
func drain(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	_ = resp.Body.Close()
}
