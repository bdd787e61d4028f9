package transfer

import (
	"bytes"
	"net/http"
	"strconv"
	"sync"
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/oss"
	"github.com/ossimport/ossimport/internal/storage/oss/osstest"
	"github.com/ossimport/ossimport/internal/storage/s3"
	"github.com/ossimport/ossimport/internal/testenv"
)

// TestServerSideCopyCarriesMetadataVersityGW copies S3→S3 on one endpoint
// (versitygw) server-side and checks the copy has what a streamed copy
// would have: the requested storage class and encryption, the source's
// metadata and the source-mtime marker, so that a rerun with
// SkipExisting skips it and an incremental rescan sees it unchanged.
func TestServerSideCopyCarriesMetadataVersityGW(t *testing.T) {
	srv := testenv.VersityGW(t)
	// versitygw keeps neither storage classes nor SSE (it reports
	// STANDARD and no encryption whatever was asked): the copy request's
	// headers are checked on the wire instead.
	rec := &headerRecorder{base: http.DefaultTransport}
	client := &http.Client{Transport: rec}
	open := func(bucket string) *s3.Store {
		st, err := s3.New(t.Context(), s3.Config{Endpoint: srv.Endpoint, Region: srv.Region, Bucket: bucket,
			AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, HTTPClient: client})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	src, dst := open(srv.CreateBucket(t, "")), open(srv.CreateBucket(t, ""))
	ctx := t.Context()
	data := randomBytes(5000, 7)
	if _, err := src.Put(ctx, "dir/a.txt", bytes.NewReader(data), int64(len(data)),
		storage.Metadata{ContentType: "text/x-src", CacheControl: "no-cache", User: map[string]string{"owner": "ops"}}); err != nil {
		t.Fatal(err)
	}
	info, err := src.Stat(ctx, "dir/a.txt")
	if err != nil {
		t.Fatal(err)
	}
	opts := testOptions()
	opts.NoServerSideCopy = false
	opts.SkipExisting = true
	opts.StorageClass = "STANDARD_IA"
	opts.ServerSideEncryption = "AES256"
	c, err := New(dst, src, opts)
	if err != nil {
		t.Fatal(err)
	}
	obj := Object{Key: "dir/a.txt", DstKey: "copy/a.txt", Size: info.Size, ModTime: info.ModTime}
	res := c.Copy(ctx, obj)
	if res.Code != Succeed || res.Strategy != "server-side" {
		t.Fatalf("copy = %s %q (strategy %q), want Succeed server-side", res.Code, res.Detail, res.Strategy)
	}
	got, err := dst.Stat(ctx, "copy/a.txt")
	if err != nil {
		t.Fatal(err)
	}
	if got.Meta.User[storage.ModTimeMetaKey] != strconv.FormatInt(info.ModTime.Unix(), 10) {
		t.Errorf("copy's source-mtime marker = %q, want %d", got.Meta.User[storage.ModTimeMetaKey], info.ModTime.Unix())
	}
	if got.Meta.ContentType != "text/x-src" || got.Meta.CacheControl != "no-cache" || got.Meta.User["owner"] != "ops" {
		t.Errorf("copy's metadata = %+v, want the source's", got.Meta)
	}
	h := rec.copyHeaders()
	if h == nil {
		t.Fatal("no CopyObject request was sent")
	}
	for name, want := range map[string]string{"X-Amz-Storage-Class": "STANDARD_IA", "X-Amz-Server-Side-Encryption": "AES256",
		"X-Amz-Metadata-Directive": "REPLACE", "X-Amz-Meta-" + storage.ModTimeMetaKey: strconv.FormatInt(info.ModTime.Unix(), 10)} {
		if got := h.Get(name); got != want {
			t.Errorf("CopyObject header %s = %q, want %q", name, got, want)
		}
	}

	again := c.Copy(ctx, obj)
	if again.Code != Skipped {
		t.Fatalf("rerun with SkipExisting = %s %q, want Skipped like a streamed copy", again.Code, again.Detail)
	}
	if c.Changed(ctx, info, "copy/a.txt") {
		t.Error("incremental rescan sees the server-side copy as changed: it would copy it again")
	}
}

// headerRecorder keeps the headers of the last copy request it sends.
type headerRecorder struct {
	base http.RoundTripper
	mu   sync.Mutex
	last http.Header
}

func (r *headerRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("X-Amz-Copy-Source") != "" {
		r.mu.Lock()
		r.last = req.Header.Clone()
		r.mu.Unlock()
	}
	return r.base.RoundTrip(req)
}

func (r *headerRecorder) copyHeaders() http.Header {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

// TestServerSideCopyCarriesMetadataOSS is the same on the OSS test
// server, which keeps storage classes and encryption and checks each
// request's signature: an OSS→OSS copy lands in IA, encrypted, with the
// marker, and a rerun skips it.
func TestServerSideCopyCarriesMetadataOSS(t *testing.T) {
	srv := osstest.New(t, osstest.Options{})
	srv.CreateBucket("src")
	srv.CreateBucket("dst")
	open := func(bucket string) *oss.Store {
		st, err := oss.New(t.Context(), storage.Spec{Type: "oss", Endpoint: srv.URL, Region: srv.Region, Bucket: bucket,
			AccessKey: srv.AccessKey, SecretKey: srv.SecretKey})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	src, dst := open("src"), open("dst")
	ctx := t.Context()
	data := randomBytes(4000, 9)
	if _, err := src.Put(ctx, "a.txt", bytes.NewReader(data), int64(len(data)), storage.Metadata{ContentType: "text/x-src", User: map[string]string{"owner": "ops"}}); err != nil {
		t.Fatal(err)
	}
	info, err := src.Stat(ctx, "a.txt")
	if err != nil {
		t.Fatal(err)
	}
	opts := testOptions()
	opts.NoServerSideCopy, opts.SkipExisting = false, true
	opts.StorageClass, opts.ServerSideEncryption = "IA", "AES256"
	c, err := New(dst, src, opts)
	if err != nil {
		t.Fatal(err)
	}
	obj := Object{Key: "a.txt", Size: info.Size, ModTime: info.ModTime}
	if res := c.Copy(ctx, obj); res.Code != Succeed || res.Strategy != "server-side" || res.Check != CheckCRC64 {
		t.Fatalf("copy = %s via %q check %q (%s)", res.Code, res.Strategy, res.Check, res.Detail)
	}
	_, h, _ := srv.Object("dst", "a.txt")
	for name, want := range map[string]string{"X-Oss-Storage-Class": "IA", "X-Oss-Server-Side-Encryption": "AES256", "Content-Type": "text/x-src",
		"X-Oss-Meta-Owner": "ops", "X-Oss-Meta-" + storage.ModTimeMetaKey: strconv.FormatInt(info.ModTime.Unix(), 10)} {
		if got := h.Get(name); got != want {
			t.Errorf("copy's %s = %q, want %q", name, got, want)
		}
	}
	if res := c.Copy(ctx, obj); res.Code != Skipped {
		t.Fatalf("rerun = %s %q, want Skipped", res.Code, res.Detail)
	}
	if c.Changed(ctx, info, "a.txt") {
		t.Error("incremental rescan sees the copy as changed")
	}
}
