package s3_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/s3"
	"github.com/ossimport/ossimport/internal/testenv"
)

// bucketConfig is the configuration of one bucket on the test server.
func bucketConfig(srv *testenv.S3Server, bucket string) s3.Config {
	return s3.Config{
		Endpoint:  srv.Endpoint,
		Region:    srv.Region,
		Bucket:    bucket,
		AccessKey: srv.AccessKey,
		SecretKey: srv.SecretKey,
	}
}

func newStore(t *testing.T, cfg s3.Config) *s3.Store {
	t.Helper()
	st, err := s3.New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("new store: %v", err)
	}
	return st
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rand.Uint32())
	}
	return b
}

func put(t *testing.T, st *s3.Store, key string, data []byte, meta storage.Metadata) {
	t.Helper()
	if _, err := st.Put(t.Context(), key, bytes.NewReader(data), int64(len(data)), meta); err != nil {
		t.Fatalf("put %q: %v", key, err)
	}
}

func readAll(t *testing.T, st *s3.Store, key string) []byte {
	t.Helper()
	rc, err := st.Open(t.Context(), key, 0, -1)
	if err != nil {
		t.Fatalf("open %q: %v", key, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %q: %v", key, err)
	}
	return data
}

// unseekable hides every method of r but Read.
type unseekable struct{ r io.Reader }

func (u unseekable) Read(p []byte) (int, error) { return u.r.Read(p) }

func TestWrongSecret(t *testing.T) {
	srv := testenv.VersityGW(t)
	cfg := bucketConfig(srv, srv.CreateBucket(t, ""))
	cfg.SecretKey = "not-the-secret-Zq81"
	st := newStore(t, cfg)
	ctx := t.Context()
	_, listErr := st.List(ctx, storage.ListOptions{})
	_, putErr := st.Put(ctx, "k", strings.NewReader("x"), 1, storage.Metadata{})
	_, statErr := st.Stat(ctx, "k")
	for op, err := range map[string]error{"list": listErr, "put": putErr, "stat": statErr} {
		if !errors.Is(err, storage.ErrAccessDenied) || storage.IsTransient(err) {
			t.Errorf("%s with a wrong secret: %v, want a permanent ErrAccessDenied", op, err)
			continue
		}
		if strings.Contains(err.Error(), cfg.SecretKey) {
			t.Errorf("%s: the message shows the secret: %v", op, err)
		}
	}
	if msg := fmt.Sprint(listErr); !strings.Contains(msg, "SignatureDoesNotMatch: check the secret key") {
		t.Errorf("list error %q does not name the service's code and what to check", msg)
	}

	cfg.AccessKey = "unknown-key"
	_, err := newStore(t, cfg).List(ctx, storage.ListOptions{})
	if !errors.Is(err, storage.ErrAccessDenied) {
		t.Errorf("list with an unknown access key: %v, want ErrAccessDenied", err)
	}
	t.Logf("messages:\n%v\n%v", listErr, err)
}

func TestMissingBucket(t *testing.T) {
	srv := testenv.VersityGW(t)
	st := newStore(t, bucketConfig(srv, fmt.Sprintf("missing-%08x", rand.Uint32())))
	ctx := t.Context()
	_, err := st.List(ctx, storage.ListOptions{})
	if !errors.Is(err, storage.ErrBucketNotExist) {
		t.Errorf("list: %v, want ErrBucketNotExist", err)
	}
	_, err = st.Put(ctx, "k", strings.NewReader("x"), 1, storage.Metadata{})
	if !errors.Is(err, storage.ErrBucketNotExist) {
		t.Errorf("put: %v, want ErrBucketNotExist", err)
	}
	// HEAD responses carry no error code, so S3 cannot tell a missing
	// bucket from a missing key there.
	_, err = st.Stat(ctx, "k")
	if !errors.Is(err, storage.ErrBucketNotExist) && !errors.Is(err, storage.ErrNotExist) {
		t.Errorf("stat: %v, want ErrBucketNotExist or ErrNotExist", err)
	}
}

// TestUnseekableBody sends bodies that cannot be rewound, which over plain
// HTTP go out as UNSIGNED-PAYLOAD.
func TestUnseekableBody(t *testing.T) {
	srv := testenv.VersityGW(t)
	st := newStore(t, bucketConfig(srv, srv.CreateBucket(t, "")))
	ctx := t.Context()
	data := randomBytes(s3.MinPartSize + 1234)
	meta := storage.Metadata{ContentType: "application/x-stream", User: map[string]string{"from": "pipe"}}
	if _, err := st.Put(ctx, "stream.bin", unseekable{bytes.NewReader(data)}, int64(len(data)), meta); err != nil {
		t.Fatalf("put an unseekable body over %s: %v", srv.Endpoint, err)
	}
	if got := readAll(t, st, "stream.bin"); !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes, want %d", len(got), len(data))
	}
	if info, err := st.Stat(ctx, "stream.bin"); err != nil || info.Meta.User["from"] != "pipe" {
		t.Fatalf("stat: %+v, %v", info, err)
	}

	id, err := st.CreateMultipart(ctx, "stream-mp.bin", storage.Metadata{})
	if err != nil {
		t.Fatal(err)
	}
	var parts []storage.Part
	for i, chunk := range [][]byte{data[:s3.MinPartSize], data[s3.MinPartSize:]} {
		p, err := st.UploadPart(ctx, "stream-mp.bin", id, i+1, unseekable{bytes.NewReader(chunk)}, int64(len(chunk)))
		if err != nil {
			t.Fatalf("upload unseekable part %d: %v", i+1, err)
		}
		parts = append(parts, p)
	}
	if _, err := st.CompleteMultipart(ctx, "stream-mp.bin", id, parts); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, st, "stream-mp.bin"); !bytes.Equal(got, data) {
		t.Fatalf("multipart read back %d bytes, want %d", len(got), len(data))
	}
}

// TestListResumeNewStore continues listings from tokens with a new Store,
// as a restarted process would, including tokens that are rolled-up
// prefixes.
func TestListResumeNewStore(t *testing.T) {
	srv := testenv.VersityGW(t)
	cfg := bucketConfig(srv, srv.CreateBucket(t, ""))
	st := newStore(t, cfg)
	// No key is also the "directory" of another: versitygw stores objects
	// as files and cannot hold both.
	keys := []string{"a/1", "a/2", "a/x/y", "b/1", "b/2/x", "b0", "c", "d/e/f", "d0", "e/"}
	for _, k := range keys {
		data := []byte(k)
		if strings.HasSuffix(k, "/") {
			data = nil // a directory marker
		}
		put(t, st, k, data, storage.Metadata{})
	}
	cases := []struct {
		prefix, delim      string
		wantKeys, wantPref []string
	}{
		{"", "", keys, nil},
		{"", "/", []string{"b0", "c", "d0"}, []string{"a/", "b/", "d/", "e/"}},
		{"a/", "/", []string{"a/1", "a/2"}, []string{"a/x/"}},
		{"e/", "/", []string{"e/"}, nil},
	}
	for _, c := range cases {
		for _, limit := range []int{1, 2, 3} {
			var gotKeys, gotPref []string
			token := ""
			for pages := 0; ; pages++ {
				if pages > 20 {
					t.Fatalf("%q/%q limit %d: listing does not end", c.prefix, c.delim, limit)
				}
				page, err := newStore(t, cfg).List(t.Context(), storage.ListOptions{Prefix: c.prefix, Delimiter: c.delim, Token: token, Limit: limit})
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range page.Objects {
					gotKeys = append(gotKeys, o.Key)
					if o.IsDir != strings.HasSuffix(o.Key, "/") {
						t.Errorf("listed %q with IsDir %v", o.Key, o.IsDir)
					}
				}
				gotPref = append(gotPref, page.Prefixes...)
				if token = page.NextToken; token == "" {
					break
				}
			}
			if !slices.Equal(gotKeys, c.wantKeys) || !slices.Equal(gotPref, c.wantPref) {
				t.Errorf("%q/%q limit %d: keys %q prefixes %q, want %q %q",
					c.prefix, c.delim, limit, gotKeys, gotPref, c.wantKeys, c.wantPref)
			}
		}
	}
}

func TestCopyFrom(t *testing.T) {
	srv := testenv.VersityGW(t)
	srcCfg := bucketConfig(srv, srv.CreateBucket(t, ""))
	dstCfg := bucketConfig(srv, srv.CreateBucket(t, ""))
	dstCfg.CopyThreshold = 1 << 20
	dstCfg.CopyPartSize = s3.MinPartSize
	src, dst := newStore(t, srcCfg), newStore(t, dstCfg)
	ctx := t.Context()
	meta := storage.Metadata{ContentType: "text/x-copied", CacheControl: "no-cache", User: map[string]string{"owner": "ops"}}

	for _, size := range []int{1000, 2*s3.MinPartSize + 4321} {
		key := fmt.Sprintf("dir/src %d+1.bin", size)
		data := randomBytes(size)
		put(t, src, key, data, meta)
		info, err := src.Stat(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		res, err := dst.CopyFrom(ctx, "copied/"+key, src, key, info, info.Meta)
		if err != nil {
			t.Fatalf("copy %d bytes: %v", size, err)
		}
		if got := readAll(t, dst, "copied/"+key); !bytes.Equal(got, data) {
			t.Fatalf("copy %d bytes: read back %d bytes that differ", size, len(got))
		}
		got, err := dst.Stat(ctx, "copied/"+key)
		if err != nil {
			t.Fatal(err)
		}
		if got.Meta.ContentType != meta.ContentType || got.Meta.CacheControl != meta.CacheControl || got.Meta.User["owner"] != "ops" {
			t.Errorf("copy %d bytes: metadata %+v, want %+v", size, got.Meta, meta)
		}
		t.Logf("copied %d bytes, ETag %q", size, res.ETag)
	}

	other := srcCfg
	other.AccessKey = "someone-else"
	if _, err := dst.CopyFrom(ctx, "x", newStore(t, other), "k", storage.ObjectInfo{}, storage.Metadata{}); !errors.Is(err, storage.ErrNotSupported) {
		t.Errorf("copy from another account: %v, want ErrNotSupported", err)
	}
}

func TestOpenEdges(t *testing.T) {
	srv := testenv.VersityGW(t)
	st := newStore(t, bucketConfig(srv, srv.CreateBucket(t, "")))
	ctx := t.Context()
	put(t, st, "ten", []byte("0123456789"), storage.Metadata{})
	rc, err := st.Open(ctx, "ten", 10, -1)
	if err != nil {
		t.Fatalf("open at the end: %v", err)
	}
	if data, err := io.ReadAll(rc); len(data) != 0 || err != nil {
		t.Fatalf("read at the end: %q, %v", data, err)
	}
	rc.Close()
	if _, err := st.Open(ctx, "ten", 11, -1); err == nil {
		t.Fatal("open past the end: no error")
	}
	if _, err := st.Open(ctx, "missing", 0, 0); !errors.Is(err, storage.ErrNotExist) {
		t.Fatalf("open 0 bytes of a missing key: %v", err)
	}
}

func TestExpires(t *testing.T) {
	srv := testenv.VersityGW(t)
	st := newStore(t, bucketConfig(srv, srv.CreateBucket(t, "")))
	const expires = "Thu, 01 Dec 2094 16:00:00 GMT"
	put(t, st, "e", []byte("x"), storage.Metadata{Expires: expires})
	if info, err := st.Stat(t.Context(), "e"); err != nil || info.Meta.Expires != expires {
		t.Errorf("expires: %q, %v; want %q", info.Meta.Expires, err, expires)
	}
}

func TestDefaultCredentialChain(t *testing.T) {
	srv := testenv.VersityGW(t)
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	cfg := bucketConfig(srv, srv.CreateBucket(t, ""))
	cfg.AccessKey, cfg.SecretKey = "", ""
	if _, err := newStore(t, cfg).List(t.Context(), storage.ListOptions{}); err != nil {
		t.Fatalf("list with credentials from the environment: %v", err)
	}
}

func TestCanceled(t *testing.T) {
	srv := testenv.VersityGW(t)
	st := newStore(t, bucketConfig(srv, srv.CreateBucket(t, "")))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := st.List(ctx, storage.ListOptions{})
	if !errors.Is(err, context.Canceled) || storage.IsTransient(err) {
		t.Fatalf("list with a canceled context: %v", err)
	}
}
