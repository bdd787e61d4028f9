package oss_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/oss"
	"github.com/ossimport/ossimport/internal/storage/oss/osstest"
)

// TestCopyFromWritesMeta checks that a server-side copy, in one request
// and in parts, is stored with the metadata asked for, not the source's:
// storage class, encryption, content headers, user metadata and the
// source-mtime marker.
func TestCopyFromWritesMeta(t *testing.T) {
	srv := osstest.New(t, osstest.Options{})
	srv.CreateBucket("meta-src")
	srv.CreateBucket("meta-dst")
	opts := oss.WithCopyThreshold(200<<10, 100<<10)
	src, dst := open(t, srv, "meta-src", opts), open(t, srv, "meta-dst", opts)
	ctx := t.Context()
	want := storage.Metadata{ContentType: "text/x-new", CacheControl: "no-store",
		User:         map[string]string{"owner": "ops", storage.ModTimeMetaKey: "1700000000"},
		StorageClass: "IA", ServerSideEncryption: "AES256"}
	for _, size := range []int{150_000, 350_000} {
		key := map[int]string{150_000: "small", 350_000: "big"}[size]
		mustPut(t, src, key, payload(size), storage.Metadata{ContentType: "text/x-old", User: map[string]string{"owner": "someone"}})
		info, err := src.Stat(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := dst.CopyFrom(ctx, key+"-copy", src, key, info, want); err != nil {
			t.Fatalf("copy %s: %v", key, err)
		}
		_, h, ok := srv.Object("meta-dst", key+"-copy")
		if !ok {
			t.Fatalf("copy %s: not stored", key)
		}
		for name, v := range map[string]string{"Content-Type": "text/x-new", "Cache-Control": "no-store", "X-Oss-Meta-Owner": "ops",
			"X-Oss-Meta-" + storage.ModTimeMetaKey: "1700000000", "X-Oss-Storage-Class": "IA", "X-Oss-Server-Side-Encryption": "AES256"} {
			if got := h.Get(name); got != v {
				t.Errorf("copy %s: %s = %q, want %q", key, name, got, v)
			}
		}
	}
}

// TestCopyHeadersAreSigned changes the storage class of a copy request
// after the SDK signed it: the server refuses it, as OSS does, so the
// copy headers are checked by the request signature.
func TestCopyHeadersAreSigned(t *testing.T) {
	srv := osstest.New(t, osstest.Options{})
	srv.CreateBucket("sig")
	tamper := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Header.Get("X-Oss-Copy-Source") != "" {
			r = r.Clone(r.Context())
			r.Header.Set("X-Oss-Storage-Class", "Archive")
		}
		return http.DefaultTransport.RoundTrip(r)
	})}
	spec := specFor(srv, "sig")
	spec.HTTPClient = tamper
	st, err := oss.New(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, st, "a", payload(10), storage.Metadata{})
	info, err := st.Stat(t.Context(), "a")
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.CopyFrom(t.Context(), "b", st, "a", info, storage.Metadata{StorageClass: "IA"})
	if err == nil || errors.Is(err, storage.ErrNotSupported) {
		t.Fatalf("copy with a header changed after signing: err %v, want the signature refused", err)
	}
	if _, _, ok := srv.Object("sig", "b"); ok {
		t.Fatal("the tampered copy was stored")
	}
	t.Logf("refused: %v", err)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
