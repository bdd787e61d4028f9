package youpaitest

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Put uploads data to bucket/key with a signed PUT, as a UPYUN client
// would; header may carry Content-Type and X-Upyun-Meta-* fields. Parent
// folders are created by the server.
func (s *Server) Put(t testing.TB, bucket, key string, data []byte, header http.Header) {
	t.Helper()
	if err := s.Do(t.Context(), http.MethodPut, bucket, key, data, header); err != nil {
		t.Fatalf("youpaitest: put %s/%s: %v", bucket, key, err)
	}
}

// Mkdir creates the folder bucket/dir and its missing parents.
func (s *Server) Mkdir(t testing.TB, bucket, dir string) {
	t.Helper()
	if err := s.Do(t.Context(), http.MethodPost, bucket, dir, nil, http.Header{"Folder": {"true"}}); err != nil {
		t.Fatalf("youpaitest: mkdir %s/%s: %v", bucket, dir, err)
	}
}

// Delete removes the file or empty folder bucket/key.
func (s *Server) Delete(t testing.TB, bucket, key string) {
	t.Helper()
	if err := s.Do(t.Context(), http.MethodDelete, bucket, key, nil, nil); err != nil {
		t.Fatalf("youpaitest: delete %s/%s: %v", bucket, key, err)
	}
}

// Do sends one request signed with the server's operator; a PUT body is
// signed with its Content-MD5. It fails on any status but 2xx.
func (s *Server) Do(ctx context.Context, method, bucket, key string, body []byte, header http.Header) error {
	uri := "/" + bucket + "/" + escapeSegments(key)
	req, err := http.NewRequestWithContext(ctx, method, s.URL+uri, bytes.NewReader(body))
	if err != nil {
		return err
	}
	for k, v := range header {
		req.Header[http.CanonicalHeaderKey(k)] = v
	}
	md5Hex := ""
	if method == http.MethodPut {
		sum := md5.Sum(body)
		md5Hex = hex.EncodeToString(sum[:])
		req.Header.Set("Content-MD5", md5Hex)
	}
	date := s.now().UTC().Format(http.TimeFormat)
	req.Header.Set("Date", date)
	req.Header.Set("Authorization", "UPYUN "+s.Operator+":"+Sign(s.Password, method, uri, date, md5Hex))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: HTTP %d %s", method, uri, resp.StatusCode, msg)
	}
	return nil
}

// escapeSegments escapes each path element the way url.PathEscape does
// (a lighter escaping than the youpai store's, so both reach the server).
func escapeSegments(key string) string {
	segs := strings.Split(key, "/")
	for i, seg := range segs {
		segs[i] = url.PathEscape(seg)
	}
	return strings.Join(segs, "/")
}
