package youpai

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/youpai/youpaitest"
)

func readAll(t *testing.T, st *Store, key string, off, n int64) ([]byte, error) {
	t.Helper()
	rc, err := st.Open(t.Context(), key, off, n)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

func TestStatFileAndFolder(t *testing.T) {
	srv, _ := newServer(t)
	srv.Put(t, testBucket, "dir/photo.png", []byte("png bytes"), http.Header{"X-Upyun-Meta-Owner": {"ops"}})
	st := openStore(t, srv, testBucket)
	info, err := st.Stat(t.Context(), "dir/photo.png")
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != 9 || info.IsDir || info.Meta.ContentType != "image/png" || info.Meta.User["owner"] != "ops" ||
		len(info.Checksums.MD5) != 16 || info.ETag == "" || time.Since(info.ModTime) > time.Minute {
		t.Fatalf("stat file: %+v", info)
	}
	if _, err := st.Stat(t.Context(), "dir"); !errors.Is(err, storage.ErrNotExist) {
		t.Fatalf("stat of a folder without '/': %v, want ErrNotExist", err)
	}
	if info, err := st.Stat(t.Context(), "dir/"); err != nil || !info.IsDir {
		t.Fatalf("stat dir/: %+v %v, want IsDir", info, err)
	}
	if _, err := st.Stat(t.Context(), "dir/photo.png/"); !errors.Is(err, storage.ErrNotExist) {
		t.Fatalf("stat of a file as a folder: %v, want ErrNotExist", err)
	}
	if _, err := readAll(t, st, "dir", 0, -1); !errors.Is(err, storage.ErrNotExist) {
		t.Fatalf("open of a folder: %v, want ErrNotExist", err)
	}
}

func TestWrongPasswordIsAccessDenied(t *testing.T) {
	srv, _ := newServer(t)
	srv.Put(t, testBucket, "k", []byte("x"), nil)
	st := openStore(t, srv, testBucket, func(s *storage.Spec) { s.SecretKey = "wrong-password" })
	_, err := st.List(t.Context(), storage.ListOptions{})
	checkDenied(t, "list", err, "40100005", "srcSecretKey (operator password)")
	_, err = st.Stat(t.Context(), "k")
	checkDenied(t, "stat", err, "", "srcAccessKey (operator)")
	_, err = readAll(t, st, "k", 0, -1)
	checkDenied(t, "open", err, "40100005", "srcAccessKey (operator)")
	if srv.Count("denied") != 3 {
		t.Fatalf("server refused %d requests, want 3", srv.Count("denied"))
	}
}

func checkDenied(t *testing.T, what string, err error, code, hint string) {
	t.Helper()
	switch {
	case !errors.Is(err, storage.ErrAccessDenied):
		t.Fatalf("%s: %v, want ErrAccessDenied", what, err)
	case storage.IsTransient(err):
		t.Fatalf("%s: %v is transient", what, err)
	case !strings.Contains(err.Error(), code) || !strings.Contains(err.Error(), hint):
		t.Fatalf("%s: %q lacks code %q or hint %q", what, err, code, hint)
	case strings.Contains(err.Error(), "wrong-password"):
		t.Fatalf("%s: %q shows the password", what, err)
	}
}

func TestClockSkewAndMissingBucket(t *testing.T) {
	srv, _ := newServer(t)
	st := openStore(t, srv, testBucket)
	srv.SetClockOffset(time.Hour)
	_, err := st.List(t.Context(), storage.ListOptions{})
	if !errors.Is(err, storage.ErrAccessDenied) || !strings.Contains(err.Error(), "clock") {
		t.Fatalf("list with a skewed clock: %v, want ErrAccessDenied about the clock", err)
	}
	srv.SetClockOffset(0)
	other := openStore(t, srv, "no-such-service")
	if _, err := other.List(t.Context(), storage.ListOptions{}); !errors.Is(err, storage.ErrBucketNotExist) {
		t.Fatalf("list of a missing service: %v, want ErrBucketNotExist", err)
	}
}

func TestThrottlingIsTransient(t *testing.T) {
	srv, _ := newServer(t)
	srv.Put(t, testBucket, "a/b", []byte("hello"), nil)
	st := openStore(t, srv, testBucket)
	srv.Fail(http.StatusTooManyRequests, 2, youpaitest.KindList)
	for i := range 2 {
		_, err := st.List(t.Context(), storage.ListOptions{})
		if !storage.IsTransient(err) || !strings.Contains(err.Error(), "42900001") {
			t.Fatalf("list %d under throttling: %v, want a transient 429", i, err)
		}
	}
	got, _ := listAll(t, st, storage.ListOptions{}, nil)
	sameSet(t, "after throttling", got, []string{"a/b"})

	srv.Fail(http.StatusServiceUnavailable, 1, youpaitest.KindHead)
	if _, err := st.Stat(t.Context(), "a/b"); !storage.IsTransient(err) {
		t.Fatalf("stat under 503: %v, want transient", err)
	}
	srv.Fail(http.StatusInternalServerError, 1, youpaitest.KindGet)
	if _, err := readAll(t, st, "a/b", 0, -1); !storage.IsTransient(err) {
		t.Fatalf("open under 500: %v, want transient", err)
	}
	if srv.Count("fault") != 4 {
		t.Fatalf("%d faults served, want 4", srv.Count("fault"))
	}
}

func TestTruncatedDownloadIsTransient(t *testing.T) {
	srv, _ := newServer(t)
	data := bytes.Repeat([]byte("0123456789"), 10_000)
	srv.Put(t, testBucket, "big", data, nil)
	st := openStore(t, srv, testBucket)
	srv.TruncateDownloads(1)
	if _, err := readAll(t, st, "big", 0, -1); !storage.IsTransient(err) {
		t.Fatalf("truncated download: %v, want a transient error", err)
	}
	got, err := readAll(t, st, "big", 0, -1)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("download after the fault: %d bytes, %v", len(got), err)
	}
}

func TestDownloadFromCDN(t *testing.T) {
	srv, _ := newServer(t)
	data := []byte("content served by the CDN")
	srv.Put(t, testBucket, "cdn dir/file #1.txt", data, nil)
	cdn := srv.CDN(t, testBucket)
	for _, domain := range []string{cdn, strings.TrimPrefix(cdn, "http://") + "/"} {
		st := openStore(t, srv, testBucket, func(s *storage.Spec) {
			s.DownloadFromCDN, s.CDNDomain = true, domain
		})
		srv.ResetCounts()
		got, err := readAll(t, st, "cdn dir/file #1.txt", 0, -1)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("cdn %q: read %q, %v", domain, got, err)
		}
		got, err = readAll(t, st, "cdn dir/file #1.txt", 4, 7)
		if err != nil || string(got) != "ent ser" {
			t.Fatalf("cdn %q: ranged read %q, %v", domain, got, err)
		}
		if _, err := readAll(t, st, "missing", 0, -1); !errors.Is(err, storage.ErrNotExist) {
			t.Fatalf("cdn %q: missing key: %v, want ErrNotExist", domain, err)
		}
		if srv.Count(youpaitest.KindCDN) != 3 || srv.Count(youpaitest.KindGet) != 0 {
			t.Fatalf("cdn %q: %d CDN and %d API downloads, want 3 and 0", domain,
				srv.Count(youpaitest.KindCDN), srv.Count(youpaitest.KindGet))
		}
		if keys, _ := listAll(t, st, storage.ListOptions{}, nil); len(keys) != 1 || srv.Count(youpaitest.KindList) == 0 {
			t.Fatalf("cdn %q: listing %q did not go through the API", domain, keys)
		}
	}
}

// TestRangeIgnored covers a CDN that answers a ranged GET with the whole
// object, and a Content-MD5 that does not match the bytes.
func TestRangeIgnoredAndBadMD5(t *testing.T) {
	data := []byte("0123456789")
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(data)
	}))
	defer cdn.Close()
	srv, _ := newServer(t)
	st := openStore(t, srv, testBucket, func(s *storage.Spec) { s.DownloadFromCDN, s.CDNDomain = true, cdn.URL })
	if got, err := readAll(t, st, "k", 3, 4); err != nil || string(got) != "3456" {
		t.Fatalf("range from a server without ranges: %q, %v", got, err)
	}
	if got, err := readAll(t, st, "k", 8, -1); err != nil || string(got) != "89" {
		t.Fatalf("tail from a server without ranges: %q, %v", got, err)
	}

	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-MD5", "00000000000000000000000000000000")
		w.Write(data)
	}))
	defer api.Close()
	bad := openStore(t, srv, testBucket, func(s *storage.Spec) { s.Endpoint = api.URL })
	if _, err := readAll(t, bad, "k", 0, -1); !errors.Is(err, storage.ErrChecksumMismatch) || !storage.IsTransient(err) {
		t.Fatalf("download with a wrong Content-MD5: %v, want a transient ErrChecksumMismatch", err)
	}
}

func TestReadRangesAndEnd(t *testing.T) {
	srv, _ := newServer(t)
	srv.Put(t, testBucket, "ten", []byte("0123456789"), nil)
	st := openStore(t, srv, testBucket)
	for _, c := range []struct {
		off, n int64
		want   string
	}{{0, -1, "0123456789"}, {2, 3, "234"}, {7, -1, "789"}, {9, 5, "9"}, {10, -1, ""}, {4, 0, ""}} {
		got, err := readAll(t, st, "ten", c.off, c.n)
		if err != nil || string(got) != c.want {
			t.Errorf("read [%d,+%d): %q, %v; want %q", c.off, c.n, got, err, c.want)
		}
	}
	if _, err := readAll(t, st, "gone", 0, 0); !errors.Is(err, storage.ErrNotExist) {
		t.Errorf("zero-length read of a missing key: %v, want ErrNotExist", err)
	}
}

func TestHTTPClientAndCancel(t *testing.T) {
	srv, _ := newServer(t)
	var calls atomic.Int32
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		calls.Add(1)
		return http.DefaultTransport.RoundTrip(r)
	})}
	st := openStore(t, srv, testBucket, func(s *storage.Spec) { s.HTTPClient = client })
	if _, err := st.List(t.Context(), storage.ListOptions{}); err != nil || calls.Load() != 1 {
		t.Fatalf("list through Spec.HTTPClient: %v, %d calls", err, calls.Load())
	}
	srv.SetDelay(10 * time.Second)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := st.List(ctx, storage.ListOptions{})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("list with a deadline: %v after %v", err, time.Since(start))
	}
	srv.SetDelay(0)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestSignatureMatchesDocExample(t *testing.T) {
	// The worked example of UPYUN's "签名认证" documentation.
	s := &Store{operator: "operator123", keyMD5: md5Hex("password123")}
	got := s.authorization("PUT", "/upyun-temp/demo.jpg", "Wed, 09 Nov 2016 14:26:58 GMT", "7ac66c0f148de9519b8bd264312c4d64")
	if want := "UPYUN operator123:YUaAZX+WNAcJdNGHS5SBlITME5A="; got != want {
		t.Fatalf("authorization = %q, want %q", got, want)
	}
}

func TestOpenSpecErrors(t *testing.T) {
	for _, spec := range []storage.Spec{
		{Type: "youpai", AccessKey: "op", SecretKey: "pw"},
		{Type: "youpai", Bucket: "b/c", AccessKey: "op", SecretKey: "pw"},
		{Type: "youpai", Bucket: "b"},
		{Type: "youpai", Bucket: "b", AccessKey: "op", SecretKey: "pw", Endpoint: "ftp://x"},
		{Type: "youpai", Bucket: "b", AccessKey: "op", SecretKey: "pw", DownloadFromCDN: true},
	} {
		if st, err := storage.Open(t.Context(), spec); err == nil {
			t.Errorf("open %+v: %v, want an error", spec, st)
		}
	}
	st, err := storage.Open(t.Context(), storage.Spec{Type: "youpai", Bucket: "b", AccessKey: "op", SecretKey: "secret"})
	if err != nil || st.String() != "youpai://b" || st.(*Store).base != DefaultEndpoint || st.Capabilities().CanWrite {
		t.Fatalf("open with the default endpoint: %v %v", st, err)
	}
}
