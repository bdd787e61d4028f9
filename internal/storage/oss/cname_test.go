package oss_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/oss"
	"github.com/ossimport/ossimport/internal/storage/oss/osstest"
)

// hostLog is an HTTP client that sends every request to the test
// server whatever its host name, and records the Host and path of each.
type hostLog struct {
	mu    sync.Mutex
	hosts []string
	paths []string
}

func (l *hostLog) client(srv *osstest.Server) *http.Client {
	addr := strings.TrimPrefix(srv.URL, "http://")
	tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	return &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
		l.mu.Lock()
		l.hosts = append(l.hosts, r.URL.Host)
		l.paths = append(l.paths, r.URL.Path)
		l.mu.Unlock()
		return tr.RoundTrip(r)
	})}
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestCNameAddressing: with Spec.CName the bucket is reached through
// the domain bound to it, https://<domain>/<key> (never
// <bucket>.<domain> nor <domain>/<bucket>/), and OSS accepts the V4
// signature, which still covers /bucket/key.
func TestCNameAddressing(t *testing.T) {
	srv := osstest.New(t, osstest.Options{})
	srv.CreateBucket("mybkt")
	srv.BindDomain("files.example.test", "mybkt")
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]
	var log hostLog
	spec := specFor(srv, "mybkt")
	spec.Endpoint, spec.CName, spec.HTTPClient = "http://files.example.test"+port, true, log.client(srv)
	st, err := oss.New(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	data := payload(300 << 10)
	mustPut(t, st, "dir/a.txt", data, storage.Metadata{})
	if got, _, ok := srv.Object("mybkt", "dir/a.txt"); !ok || string(got) != string(data) {
		t.Fatalf("object dir/a.txt not stored under its key (keys %v)", srv.Keys("mybkt"))
	}
	if _, err := st.Stat(t.Context(), "dir/a.txt"); err != nil {
		t.Fatal(err)
	}
	if b, err := readAll(st, t.Context(), "dir/a.txt", 10, 100); err != nil || string(b) != string(data[10:110]) {
		t.Fatalf("ranged read: %v", err)
	}
	page, err := st.List(t.Context(), storage.ListOptions{})
	if err != nil || len(page.Objects) != 1 || page.Objects[0].Key != "dir/a.txt" {
		t.Fatalf("list: %+v %v", page, err)
	}
	id, err := st.CreateMultipart(t.Context(), "big", storage.Metadata{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := st.UploadPart(t.Context(), "big", id, 1, strings.NewReader("part"), 4)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CompleteMultipart(t.Context(), "big", id, []storage.Part{p}); err != nil {
		t.Fatal(err)
	}
	if err := st.CheckBucket(t.Context()); err != nil {
		t.Fatalf("check bucket: %v", err)
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	for i, h := range log.hosts {
		if h != "files.example.test"+port || strings.HasPrefix(log.paths[i], "/mybkt") {
			t.Fatalf("request %d went to %s%s, want files.example.test%s/<key>", i, h, log.paths[i], port)
		}
	}
}

// TestCNameOtherFormsRefused: the test server refuses the two wrong
// forms the issue reports, so the test above is meaningful.
func TestCNameOtherFormsRefused(t *testing.T) {
	srv := osstest.New(t, osstest.Options{})
	srv.CreateBucket("mybkt")
	srv.BindDomain("files.example.test", "mybkt")
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]
	var log hostLog
	spec := specFor(srv, "mybkt")
	spec.Endpoint, spec.HTTPClient = "http://files.example.test"+port, log.client(srv)
	virtual, err := oss.New(t.Context(), spec) // bucket.domain
	if err != nil {
		t.Fatal(err)
	}
	if _, err := virtual.Put(t.Context(), "k", strings.NewReader("x"), 1, storage.Metadata{}); !errors.Is(err, storage.ErrAccessDenied) {
		t.Fatalf("virtual-host put to mybkt.files.example.test: %v, want access denied", err)
	}
	spec.PathStyle = true // domain/bucket/key: lands under "mybkt/k"
	path, err := oss.New(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	_, err = path.Put(t.Context(), "k", strings.NewReader("x"), 1, storage.Metadata{})
	if _, _, ok := srv.Object("mybkt", "k"); ok {
		t.Fatalf("path style through the domain stored k (err %v)", err)
	}
}

func TestCNameNeedsRegionAndEndpoint(t *testing.T) {
	spec := storage.Spec{Type: "oss", Endpoint: "https://files.example.com", Bucket: "mybkt", CName: true, AccessKey: "a", SecretKey: "b"}
	if _, err := oss.New(t.Context(), spec); err == nil || !strings.Contains(err.Error(), "destRegion") {
		t.Fatalf("custom domain without region: %v, want an error naming destRegion", err)
	}
	spec.Endpoint, spec.Region = "", "cn-hangzhou"
	if _, err := oss.New(t.Context(), spec); err == nil {
		t.Fatal("CNAME without endpoint accepted")
	}
}

// TestSecurityToken: STS credentials carry their token, which the
// server checks (and V4 signs as an x-oss- header).
func TestSecurityToken(t *testing.T) {
	srv := osstest.New(t, osstest.Options{SecurityToken: "sts-token-1"})
	srv.CreateBucket("sts")
	spec := specFor(srv, "sts")
	st, err := oss.New(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Put(t.Context(), "k", strings.NewReader("x"), 1, storage.Metadata{}); !errors.Is(err, storage.ErrAccessDenied) {
		t.Fatalf("put without token: %v, want access denied", err)
	}
	spec.SessionToken = "sts-token-1"
	if st, err = oss.New(t.Context(), spec); err != nil {
		t.Fatal(err)
	}
	mustPut(t, st, "k", []byte("x"), storage.Metadata{})
	spec.SessionToken = "wrong"
	st, _ = oss.New(t.Context(), spec)
	if _, err := st.Stat(t.Context(), "k"); !errors.Is(err, storage.ErrAccessDenied) {
		t.Fatalf("stat with a wrong token: %v", err)
	}
}

// TestEnvironmentCredentials: with no keys in the spec the store uses
// OSS_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET and OSS_SESSION_TOKEN.
func TestEnvironmentCredentials(t *testing.T) {
	srv := osstest.New(t, osstest.Options{SecurityToken: "env-token"})
	srv.CreateBucket("env")
	t.Setenv(oss.EnvAccessKeyID, srv.AccessKey)
	t.Setenv(oss.EnvAccessKeySecret, srv.SecretKey)
	t.Setenv(oss.EnvSessionToken, "env-token")
	spec := specFor(srv, "env")
	spec.AccessKey, spec.SecretKey = "", ""
	st, err := oss.New(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, st, "k", []byte("x"), storage.Metadata{})
	if err := st.CheckBucket(t.Context()); err != nil {
		t.Fatal(err)
	}
	spec.AccessKey = "only-the-id"
	if _, err := oss.New(t.Context(), spec); err == nil || strings.Contains(err.Error(), srv.SecretKey) {
		t.Fatalf("half a key pair: %v", err)
	}
}

// TestCheckBucket: a missing bucket and refused keys are told apart.
func TestCheckBucket(t *testing.T) {
	srv := osstest.New(t, osstest.Options{})
	srv.CreateBucket("there")
	st, err := oss.New(t.Context(), specFor(srv, "there"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CheckBucket(t.Context()); err != nil {
		t.Fatal(err)
	}
	if st, err = oss.New(t.Context(), specFor(srv, "not-there")); err != nil {
		t.Fatal(err)
	}
	if err := st.CheckBucket(t.Context()); !errors.Is(err, storage.ErrBucketNotExist) {
		t.Fatalf("missing bucket: %v", err)
	}
	spec := specFor(srv, "there")
	spec.SecretKey = "wrong"
	if st, err = oss.New(t.Context(), spec); err != nil {
		t.Fatal(err)
	}
	if err := st.CheckBucket(t.Context()); !errors.Is(err, storage.ErrAccessDenied) || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("wrong secret: %v", err)
	}
}
