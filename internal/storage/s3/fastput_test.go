package s3_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/s3"
	"github.com/ossimport/ossimport/internal/testenv"
)

// directUA is the User-Agent of the PUTs sent without the SDK.
const directUA = "ossimport (aws-sdk-go-v2 signer)"

// seenTransport records each request's method and User-Agent, and
// answers the next failures PUTs with 503 SlowDown itself.
type seenTransport struct {
	fault faultTransport
	mu    sync.Mutex
	seen  []string // "PUT direct", "PUT sdk", "HEAD sdk"...
}

func (s *seenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	by := "sdk"
	if req.Header.Get("User-Agent") == directUA {
		by = "direct"
	}
	s.mu.Lock()
	s.seen = append(s.seen, req.Method+" "+by)
	s.mu.Unlock()
	if req.Method == http.MethodPut {
		return s.fault.RoundTrip(req)
	}
	return http.DefaultTransport.RoundTrip(req)
}

func (s *seenTransport) last() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.seen) == 0 {
		return ""
	}
	return s.seen[len(s.seen)-1]
}

// TestDirectPut: once the SDK has resolved the bucket's endpoint (the
// first object request), a small streamed PUT goes out without the SDK
// and stores the same object: the bytes, an MD5 ETag, every metadata
// field, keys needing escapes; its errors classify as the SDK's do
// (access denied, missing bucket, throttling transient and not retried).
func TestDirectPut(t *testing.T) {
	srv := testenv.VersityGW(t)
	seen := &seenTransport{}
	cfg := bucketConfig(srv, srv.CreateBucket(t, ""))
	cfg.HTTPClient = &http.Client{Transport: seen}
	st := newStore(t, cfg)
	ctx := t.Context()
	meta := storage.Metadata{ContentType: "text/plain; charset=utf-8", CacheControl: "max-age=60", ContentDisposition: `attachment; filename="a b.txt"`,
		ContentEncoding: "identity", ContentLanguage: "de-CH", Expires: "Thu, 01 Dec 2044 16:00:00 GMT",
		User: map[string]string{"x-oss-import-mtime": "1700000000", "Mixed-Case": "Value 1"}}
	keys := []string{"first", "dir/a b+c%d~e=f&g.txt", "ünï/ço dé", "semi;colon:at@[x]", "many//slashes/x"}
	for i, key := range keys {
		data := randomBytes(1000 + i)
		res, err := st.Put(ctx, key, unseekable{bytes.NewReader(data)}, int64(len(data)), meta)
		if err != nil {
			t.Fatalf("put %q: %v", key, err)
		}
		if want := map[bool]string{true: "PUT sdk", false: "PUT direct"}[i == 0]; seen.last() != want {
			t.Errorf("put %q went %q, want %q", key, seen.last(), want)
		}
		sum := md5.Sum(data)
		if res.ETag != hex.EncodeToString(sum[:]) {
			t.Errorf("put %q: ETag %q, want the MD5 %x", key, res.ETag, sum)
		}
		if got := readAll(t, st, key); !bytes.Equal(got, data) {
			t.Errorf("%q: read back %d bytes that differ from the %d put", key, len(got), len(data))
		}
		info, err := st.Stat(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		got := info.Meta
		got.StorageClass = ""
		want := meta
		want.User = map[string]string{"x-oss-import-mtime": "1700000000", "mixed-case": "Value 1"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%q: metadata\n%+v, want\n%+v", key, got, want)
		}
	}

	seen.fault.fail(1)
	_, err := st.Put(ctx, "throttled", unseekable{strings.NewReader("x")}, 1, storage.Metadata{})
	if !storage.IsTransient(err) || seen.fault.count() != 1 || seen.last() != "PUT direct" {
		t.Errorf("a throttled direct PUT: %v after %d requests (last %q), want one transient failure", err, seen.fault.count(), seen.last())
	}

	wrong := cfg
	wrong.SecretKey = "not-the-secret-Zq81"
	bad := newStore(t, wrong)
	missing := bucketConfig(srv, fmt.Sprintf("missing-%08x", rand.Uint32()))
	missing.HTTPClient = cfg.HTTPClient
	gone := newStore(t, missing)
	for _, tc := range []struct {
		name string
		st   *s3.Store
		want error
		msg  string
	}{{"wrong secret", bad, storage.ErrAccessDenied, "SignatureDoesNotMatch: check the secret key"}, {"missing bucket", gone, storage.ErrBucketNotExist, "NoSuchBucket"}} {
		for i := range 2 { // the SDK's, then a direct one
			_, err := tc.st.Put(ctx, "k", unseekable{strings.NewReader("x")}, 1, storage.Metadata{})
			if !errors.Is(err, tc.want) || storage.IsTransient(err) || !strings.Contains(fmt.Sprint(err), tc.msg) {
				t.Errorf("%s, put %d (%s): %v, want a permanent %v naming %q", tc.name, i+1, seen.last(), err, tc.want, tc.msg)
			}
			if strings.Contains(fmt.Sprint(err), wrong.SecretKey) {
				t.Errorf("%s: the message shows the secret: %v", tc.name, err)
			}
		}
		if seen.last() != "PUT direct" {
			t.Errorf("%s: the second put went %q", tc.name, seen.last())
		}
	}
}
