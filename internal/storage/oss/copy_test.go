package oss_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/oss"
	"github.com/ossimport/ossimport/internal/storage/oss/osstest"
)

func TestCopyFrom(t *testing.T) {
	srv := osstest.New(t, osstest.Options{})
	srv.CreateBucket("copy-src")
	srv.CreateBucket("copy-dst")
	opts := oss.WithCopyThreshold(200<<10, 100<<10)
	src, dst := open(t, srv, "copy-src", opts), open(t, srv, "copy-dst", opts)
	ctx := t.Context()
	meta := storage.Metadata{ContentType: "text/x-copy", CacheControl: "no-store", User: map[string]string{"owner": "ops"}}

	check := func(key string, data []byte, res storage.PutResult) {
		t.Helper()
		got, err := readAll(dst, ctx, key, 0, -1)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("copy %q: read %d bytes, %v", key, len(got), err)
		}
		info, err := dst.Stat(ctx, key)
		if err != nil || info.Meta.ContentType != meta.ContentType || info.Meta.CacheControl != meta.CacheControl || info.Meta.User["owner"] != "ops" {
			t.Fatalf("copy %q: metadata %+v, %v", key, info.Meta, err)
		}
		if !res.Checksums.HasCRC64 || res.Checksums.CRC64 != info.Checksums.CRC64 {
			t.Fatalf("copy %q: result CRC %+v, object %+v", key, res.Checksums, info.Checksums)
		}
	}

	small := payload(150_000)
	mustPut(t, src, "small", small, meta)
	info, _ := src.Stat(ctx, "small")
	res, err := dst.CopyFrom(ctx, "small-copy", src, "small", info, info.Meta)
	if err != nil {
		t.Fatal(err)
	}
	check("small-copy", small, res)
	if srv.Count("CopyObject") != 1 || srv.Count("UploadPartCopy") != 0 {
		t.Fatalf("small copy: %d CopyObject, %d UploadPartCopy", srv.Count("CopyObject"), srv.Count("UploadPartCopy"))
	}

	big := payload(350_000)
	mustPut(t, src, "big", big, meta)
	info, _ = src.Stat(ctx, "big")
	res, err = dst.CopyFrom(ctx, "big-copy", src, "big", info, info.Meta)
	if err != nil {
		t.Fatal(err)
	}
	check("big-copy", big, res)
	if n := srv.Count("UploadPartCopy"); n != 4 {
		t.Fatalf("big copy: %d UploadPartCopy, want 4", n)
	}
	if !strings.HasSuffix(res.ETag, "-4") {
		t.Errorf("multipart copy ETag %q", res.ETag)
	}
}

func TestCopyFromFailures(t *testing.T) {
	srv := osstest.New(t, osstest.Options{})
	srv.CreateBucket("fail-src")
	srv.CreateBucket("fail-dst")
	opts := oss.WithCopyThreshold(200<<10, 100<<10)
	src, dst := open(t, srv, "fail-src", opts), open(t, srv, "fail-dst", opts)
	ctx := t.Context()
	big := payload(350_000)
	mustPut(t, src, "big", big, storage.Metadata{})
	info, _ := src.Stat(ctx, "big")

	srv.Inject(osstest.Fault{Op: "UploadPartCopy", Status: 500, Times: -1})
	_, err := dst.CopyFrom(ctx, "big-copy", src, "big", info, info.Meta)
	if !storage.IsTransient(err) {
		t.Fatalf("copy with failing parts: %v", err)
	}
	srv.ClearFaults()
	if n := srv.Uploads("fail-dst"); n != 0 {
		t.Fatalf("%d uploads left behind", n)
	}

	srv.Inject(osstest.Fault{Op: "CopyObject", WrongCRC: true})
	small := payload(1000)
	mustPut(t, src, "small", small, storage.Metadata{})
	info, _ = src.Stat(ctx, "small")
	_, err = dst.CopyFrom(ctx, "small-copy", src, "small", info, info.Meta)
	wantErr(t, "copy with a wrong CRC", err, storage.ErrChecksumMismatch, true)

	_, err = dst.CopyFrom(ctx, "x", src, "missing", storage.ObjectInfo{Size: 10}, storage.Metadata{})
	wantErr(t, "copy of a missing object", err, storage.ErrNotExist, false)
	_, err = dst.CopyFrom(ctx, "x", src, "missing", storage.ObjectInfo{Size: 1 << 20}, storage.Metadata{})
	wantErr(t, "multipart copy of a missing object", err, storage.ErrNotExist, false)

	mustPut(t, src, "cold", big, storage.Metadata{StorageClass: "Archive"})
	for _, size := range []int64{1, 1 << 20} {
		_, err = dst.CopyFrom(ctx, "x", src, "cold", storage.ObjectInfo{Size: size}, storage.Metadata{})
		wantErr(t, "copy of an archived object", err, storage.ErrNeedsRestore, false)
	}
}

// Only stores reached through the same service with the same account can
// copy from each other.
func TestCopyFromElsewhere(t *testing.T) {
	srv, other := osstest.New(t, osstest.Options{}), osstest.New(t, osstest.Options{})
	srv.CreateBucket("here")
	other.CreateBucket("there")
	dst := open(t, srv, "here")
	spec := specFor(srv, "here")
	spec.AccessKey = "another-account"
	otherAccount, _ := oss.New(t.Context(), spec)
	for _, src := range []storage.Store{open(t, other, "there"), otherAccount, foreignStore{}} {
		_, err := dst.CopyFrom(t.Context(), "k", src, "k", storage.ObjectInfo{Size: 1}, storage.Metadata{})
		if !errors.Is(err, storage.ErrNotSupported) {
			t.Errorf("copy from %s: %v", src, err)
		}
	}
	if n := srv.Count("") + other.Count(""); n != 0 {
		t.Fatalf("%d requests sent", n)
	}
}

type foreignStore struct{}

func (foreignStore) String() string                     { return "other:" }
func (foreignStore) Capabilities() storage.Capabilities { return storage.Capabilities{} }
