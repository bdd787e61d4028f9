package httplist

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
)

var testData = []byte("0123456789abcdefghijklmnopqrstuvwxyz")

// refuseHEAD answers HEAD with status, as some servers do.
func refuseHEAD(status int) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodHead {
				w.WriteHeader(status)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func TestStatFallsBackToGETWhenHEADIsRefused(t *testing.T) {
	for _, status := range []int{http.StatusMethodNotAllowed, http.StatusNotImplemented, http.StatusForbidden} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			s := newSite(t, refuseHEAD(status))
			s.put(t, "dir/a.bin", testData)
			s.put(t, "empty", nil)
			info, err := s.store.Stat(t.Context(), "dir/a.bin")
			if err != nil {
				t.Fatal(err)
			}
			if info.Size != int64(len(testData)) || info.ModTime.IsZero() || info.Key != "dir/a.bin" {
				t.Fatalf("stat = %+v", info)
			}
			if info, err := s.store.Stat(t.Context(), "empty"); err != nil || info.Size != 0 {
				t.Fatalf("stat empty = %+v, %v", info, err)
			}
		})
	}
}

func TestStatHEADReportsHeaders(t *testing.T) {
	s := newSite(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("ETag", `"abc"`)
			w.Header().Set("Content-Type", "image/jpeg")
			w.Header().Set("Cache-Control", "max-age=60")
			w.Header().Set("Content-MD5", "XUFAKrxLKna5cZ2REBfFkg==") // md5("hello")
			next.ServeHTTP(w, r)
		})
	})
	s.put(t, "a.jpg", testData)
	info, err := s.store.Stat(t.Context(), "a.jpg")
	if err != nil {
		t.Fatal(err)
	}
	if info.ETag != "abc" || info.Meta.ContentType != "image/jpeg" || info.Meta.CacheControl != "max-age=60" ||
		fmt.Sprintf("%x", info.Checksums.MD5) != "5d41402abc4b2a76b9719d911017c592" {
		t.Fatalf("stat = %+v", info)
	}
	if _, ok := info.Meta.User[PrefixMetaKey]; ok {
		t.Fatal("Stat must not return the URL prefix as user metadata")
	}
}

// ignoreRange drops the Range header, as servers without range support do.
func ignoreRange(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Del("Range")
		next.ServeHTTP(w, r)
	})
}

func TestOpenWhenTheServerIgnoresRange(t *testing.T) {
	s := newSite(t, ignoreRange)
	s.put(t, "a.bin", testData)
	for _, c := range []struct{ off, n int64 }{{0, -1}, {0, 10}, {0, int64(len(testData))}, {0, 1000}} {
		got, err := readAll(t, s.store, "a.bin", c.off, c.n)
		want := testData
		if c.n >= 0 && c.n < int64(len(want)) {
			want = want[:c.n]
		}
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("[%d,+%d): got %q, %v; want %q", c.off, c.n, got, err, want)
		}
	}
	_, err := readAll(t, s.store, "a.bin", 5, 10)
	if !errors.Is(err, storage.ErrNotSupported) {
		t.Fatalf("offset 5 without range support: %v, want ErrNotSupported", err)
	}
}

func readAll(t *testing.T, st *Store, key string, off, n int64) ([]byte, error) {
	rc, err := st.Open(t.Context(), key, off, n)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// truncate announces the full length but sends only half the body.
func truncate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			next.ServeHTTP(w, r)
			return
		}
		rec := &recorder{header: http.Header{}}
		next.ServeHTTP(rec, r)
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
		w.Write(rec.body.Bytes()[:rec.body.Len()/2])
	})
}

type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) WriteHeader(status int)      { r.status = status }
func (r *recorder) Write(p []byte) (int, error) { return r.body.Write(p) }

func TestOpenDetectsATruncatedBody(t *testing.T) {
	s := newSite(t, truncate)
	s.put(t, "a.bin", testData)
	for _, c := range []struct{ off, n int64 }{{0, -1}, {4, 20}, {4, -1}} {
		got, err := readAll(t, s.store, "a.bin", c.off, c.n)
		if !errors.Is(err, io.ErrUnexpectedEOF) || !storage.IsTransient(err) {
			t.Errorf("[%d,+%d): got %d bytes, err %v; want a transient io.ErrUnexpectedEOF", c.off, c.n, len(got), err)
		}
	}
}

// closeEarly sends a 206 with Content-Range but no Content-Length and
// stops early: only Content-Range tells the body is short.
func closeEarly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Range", "bytes 4-23/36")
		w.WriteHeader(http.StatusPartialContent)
		w.Write(testData[4:10])
		w.(http.Flusher).Flush() // chunked encoding, no Content-Length
	})
}

func TestOpenChecksContentRange(t *testing.T) {
	s := newSite(t, closeEarly)
	s.put(t, "a.bin", testData)
	got, err := readAll(t, s.store, "a.bin", 4, 20)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("got %q, err %v; want io.ErrUnexpectedEOF", got, err)
	}
	if _, err := readAll(t, s.store, "a.bin", 5, 20); err == nil || !strings.Contains(err.Error(), "Content-Range") {
		t.Fatalf("a range starting elsewhere: %v", err)
	}
}

// status answers every request with one status.
func status(code int) func(http.Handler) http.Handler {
	return func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) })
	}
}

func TestStatusMapping(t *testing.T) {
	cases := []struct {
		code      int
		sentinel  error
		transient bool
	}{
		{http.StatusNotFound, storage.ErrNotExist, false},
		{http.StatusGone, storage.ErrNotExist, false},
		{http.StatusUnauthorized, storage.ErrAccessDenied, false},
		{http.StatusForbidden, storage.ErrAccessDenied, false},
		{http.StatusTooManyRequests, nil, true},
		{http.StatusInternalServerError, nil, true},
		{http.StatusServiceUnavailable, nil, true},
		{http.StatusBadRequest, nil, false},
	}
	for _, c := range cases {
		t.Run(strconv.Itoa(c.code), func(t *testing.T) {
			s := newSite(t, status(c.code))
			s.put(t, "a.bin", testData)
			_, statErr := s.store.Stat(t.Context(), "a.bin")
			_, openErr := readAll(t, s.store, "a.bin", 0, -1)
			for _, err := range []error{statErr, openErr} {
				if err == nil {
					t.Fatal("no error")
				}
				if c.sentinel != nil && !errors.Is(err, c.sentinel) {
					t.Errorf("%v does not wrap %v", err, c.sentinel)
				}
				if storage.IsTransient(err) != c.transient {
					t.Errorf("%v: transient = %v, want %v", err, !c.transient, c.transient)
				}
			}
		})
	}
}

func TestDecodedKeyFetchesTheURLAsWritten(t *testing.T) {
	var path atomic.Value
	s := newSite(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			path.Store(r.URL.EscapedPath())
			next.ServeHTTP(w, r)
		})
	})
	s.put(t, "dir one/a b+c%d#e?.jpg", testData) // listed as dir%20one/a%20b+c%25d%23e%3F.jpg
	page, err := s.store.List(t.Context(), storage.ListOptions{})
	if err != nil || len(page.Objects) != 1 || page.Objects[0].Key != "dir one/a b+c%d#e?.jpg" {
		t.Fatalf("page %+v, err %v", page, err)
	}
	got, err := readAll(t, s.store, "dir one/a b+c%d#e?.jpg", 0, -1)
	if err != nil || !bytes.Equal(got, testData) {
		t.Fatalf("read %q, %v", got, err)
	}
	if p := path.Load(); p != "/dir%20one/a%20b+c%25d%23e%3F.jpg" {
		t.Fatalf("server saw path %q", p)
	}
}

func TestErrorsHideTheQueryString(t *testing.T) {
	s := newSite(t, status(http.StatusForbidden))
	s.appendList(t, s.srv.URL+"/ a.jpg?Signature=SECRET\n")
	_, err := s.store.Stat(t.Context(), "a.jpg?Signature=SECRET")
	if err == nil || strings.Contains(strings.TrimPrefix(err.Error(), `stat "a.jpg?Signature=SECRET"`), "SECRET") {
		t.Fatalf("err = %v", err)
	}
}

func TestStatUnknownKey(t *testing.T) {
	s := newSite(t)
	s.put(t, "a", testData)
	_, err := s.store.Stat(t.Context(), "b")
	if !errors.Is(err, storage.ErrNotExist) {
		t.Fatalf("err = %v, want ErrNotExist", err)
	}
}
