package oss_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/oss"
	"github.com/ossimport/ossimport/internal/storage/oss/osstest"
)

func payload(n int) []byte {
	r := rand.New(rand.NewPCG(uint64(n), 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func mustPut(t *testing.T, st *oss.Store, key string, data []byte, meta storage.Metadata) storage.PutResult {
	t.Helper()
	res, err := st.Put(t.Context(), key, bytes.NewReader(data), int64(len(data)), meta)
	if err != nil {
		t.Fatalf("put %q: %v", key, err)
	}
	return res
}

func readAll(st *oss.Store, ctx context.Context, key string, off, n int64) ([]byte, error) {
	rc, err := st.Open(ctx, key, off, n)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

func wantErr(t *testing.T, what string, err, sentinel error, transient bool) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("%s: error %v, want %v", what, err, sentinel)
	}
	if storage.IsTransient(err) != transient {
		t.Fatalf("%s: IsTransient = %v, want %v (%v)", what, !transient, transient, err)
	}
}

// onlyReader hides every method but Read, so the body cannot be rewound.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func TestRegistered(t *testing.T) {
	srv := osstest.New(t, osstest.Options{})
	srv.CreateBucket("reg")
	st, err := storage.Open(t.Context(), specFor(srv, "reg"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.(*oss.Store); !ok || st.String() != "oss://reg" {
		t.Fatalf("storage.Open gave %T %s", st, st)
	}
	c := st.Capabilities()
	if !c.CanList || !c.CanWrite || !c.Multipart || !c.ServerSideCopy || !c.CRC64 || c.MinPartSize != 100<<10 ||
		c.MaxPartSize != 5<<30 || c.MaxParts != 10000 || c.MD5 || !c.ETagIsMD5 {
		t.Fatalf("capabilities %+v", c)
	}
	if strings.Contains(st.String(), srv.SecretKey) || strings.Contains(st.String(), srv.AccessKey) {
		t.Fatal("String shows credentials")
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := t.Context()
	_, err := oss.New(ctx, storage.Spec{Endpoint: "http://127.0.0.1:9", Bucket: "bkt", AccessKey: "a", SecretKey: "s"})
	if err == nil || !strings.Contains(err.Error(), "region") {
		t.Fatalf("IP endpoint without region: %v", err)
	}
	if _, err := oss.New(ctx, storage.Spec{Endpoint: "http://127.0.0.1:9", Bucket: "bkt", AccessKey: "a", SecretKey: "s"}, oss.WithSignatureV1()); err != nil {
		t.Fatalf("V1 needs no region: %v", err)
	}
	if _, err := oss.New(ctx, storage.Spec{Endpoint: "oss-cn-beijing-internal.aliyuncs.com", Bucket: "bkt"}); err != nil {
		t.Fatalf("region from an internal endpoint without scheme: %v", err)
	}
	if _, err := oss.New(ctx, storage.Spec{Region: "cn-beijing", Bucket: "bkt", AccessKey: "a"}); err == nil {
		t.Fatal("access key without secret accepted")
	}
	for _, bucket := range []string{"", "Upper", "with_underscore", "b/path", "-dash", "ab"} {
		if _, err := oss.New(ctx, storage.Spec{Region: "cn-beijing", Bucket: bucket}); err == nil {
			t.Errorf("bucket name %q accepted", bucket)
		}
	}
	if _, err := oss.New(ctx, storage.Spec{Bucket: "bkt", AccessKey: "a", SecretKey: "s"}, oss.WithSignatureV1()); err == nil {
		t.Error("no endpoint and no region accepted")
	}
}

func TestWrongSecret(t *testing.T) {
	srv := osstest.New(t, osstest.Options{})
	srv.CreateBucket("secret")
	for _, v := range []struct {
		name string
		opts []oss.Option
	}{{"V4", nil}, {"V1", []oss.Option{oss.WithSignatureV1()}}} {
		t.Run(v.name, func(t *testing.T) {
			spec := specFor(srv, "secret")
			spec.SecretKey = "not-the-secret"
			st, err := oss.New(t.Context(), spec, v.opts...)
			if err != nil {
				t.Fatal(err)
			}
			_, err = st.Put(t.Context(), "k", strings.NewReader("x"), 1, storage.Metadata{})
			wantErr(t, "put", err, storage.ErrAccessDenied, false)
			if msg := err.Error(); !strings.Contains(msg, "SignatureDoesNotMatch") || !strings.Contains(msg, "destAccessKey") ||
				strings.Contains(msg, "not-the-secret") || strings.Count(msg, "\n") > 0 {
				t.Errorf("message %q", msg)
			}
			_, err = st.Stat(t.Context(), "k")
			wantErr(t, "stat", err, storage.ErrAccessDenied, false)
			_, err = st.List(t.Context(), storage.ListOptions{})
			wantErr(t, "list", err, storage.ErrAccessDenied, false)
		})
	}
	spec := specFor(srv, "secret")
	spec.AccessKey = "unknown-key"
	st, _ := oss.New(t.Context(), spec)
	_, err := st.Stat(t.Context(), "k")
	wantErr(t, "stat with an unknown key", err, storage.ErrAccessDenied, false)
}

func TestBucketNotExist(t *testing.T) {
	srv := osstest.New(t, osstest.Options{})
	st := open(t, srv, "no-such-bucket")
	_, err := st.List(t.Context(), storage.ListOptions{})
	wantErr(t, "list", err, storage.ErrBucketNotExist, false)
	_, err = st.Put(t.Context(), "k", strings.NewReader("x"), 1, storage.Metadata{})
	wantErr(t, "put", err, storage.ErrBucketNotExist, false)
	_, err = readAll(st, t.Context(), "k", 0, -1)
	wantErr(t, "open", err, storage.ErrBucketNotExist, false)
}

// Keys OSS would refuse fail before any request is sent.
func TestInvalidKeyNoRequest(t *testing.T) {
	srv := osstest.New(t, osstest.Options{})
	srv.CreateBucket("keys")
	st := open(t, srv, "keys")
	other := open(t, srv, "keys")
	ctx := t.Context()
	for _, key := range []string{"", "/abs", `\win`, "a\nb", "a\rb", strings.Repeat("k", 1024), "bad\xffutf8"} {
		_, err := st.Put(ctx, key, strings.NewReader("x"), 1, storage.Metadata{})
		wantErr(t, "put "+key, err, storage.ErrInvalidKey, false)
		_, err = st.CreateMultipart(ctx, key, storage.Metadata{})
		wantErr(t, "create multipart "+key, err, storage.ErrInvalidKey, false)
		_, err = st.UploadPart(ctx, key, "id", 1, strings.NewReader("x"), 1)
		wantErr(t, "upload part "+key, err, storage.ErrInvalidKey, false)
		wantErr(t, "delete "+key, st.Delete(ctx, key), storage.ErrInvalidKey, false)
		_, err = st.CopyFrom(ctx, key, other, "src", storage.ObjectInfo{Size: 1}, storage.Metadata{})
		wantErr(t, "copy to "+key, err, storage.ErrInvalidKey, false)
	}
	if n := srv.Count(""); n != 0 {
		t.Fatalf("%d requests sent for invalid keys", n)
	}
}

func TestRetriesAndTransient(t *testing.T) {
	srv := osstest.New(t, osstest.Options{})
	st := openFresh(t, srv)
	ctx := t.Context()
	data := payload(50_000)

	// A rewindable body is retried by the SDK.
	srv.Inject(osstest.Fault{Op: "PutObject", Status: 503, Times: 2})
	mustPut(t, st, "seekable", data, storage.Metadata{})
	if n := srv.Count("PutObject"); n != 3 {
		t.Errorf("PutObject requests %d, want 3", n)
	}
	// A stream is sent once; the error says to try again.
	srv.ResetCounts()
	srv.Inject(osstest.Fault{Op: "PutObject", Status: 503})
	_, err := st.Put(ctx, "stream", onlyReader{bytes.NewReader(data)}, int64(len(data)), storage.Metadata{})
	if !storage.IsTransient(err) || srv.Count("PutObject") != 1 {
		t.Fatalf("put of a stream after 503: %v (transient %v), %d requests", err, storage.IsTransient(err), srv.Count("PutObject"))
	}
	srv.Inject(osstest.Fault{Op: "UploadPart", Status: 500})
	id, err := st.CreateMultipart(ctx, "mp", storage.Metadata{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.UploadPart(ctx, "mp", id, 1, onlyReader{bytes.NewReader(data)}, int64(len(data)))
	if !storage.IsTransient(err) {
		t.Fatalf("upload part of a stream after 500: %v", err)
	}
	// After the SDK's own retries, a persisting 5xx is transient.
	srv.Inject(osstest.Fault{Op: "HeadObject", Status: 503, Times: -1})
	_, err = st.Stat(ctx, "seekable")
	if !storage.IsTransient(err) || errors.Is(err, storage.ErrNotExist) {
		t.Fatalf("stat during 503s: %v", err)
	}
	srv.ClearFaults()
	srv.Inject(osstest.Fault{Op: "GetObject", Status: 429, Code: "TooManyRequests", Times: -1})
	_, err = readAll(st, ctx, "seekable", 0, -1)
	if !storage.IsTransient(err) {
		t.Fatalf("open during throttling: %v", err)
	}
	srv.ClearFaults()
}

func TestTimeoutsAndCancel(t *testing.T) {
	srv := osstest.New(t, osstest.Options{})
	srv.CreateBucket("slow")
	spec := specFor(srv, "slow")
	spec.HTTPClient = &http.Client{Timeout: 100 * time.Millisecond}
	st, err := oss.New(t.Context(), spec, oss.WithRetryMaxAttempts(1))
	if err != nil {
		t.Fatal(err)
	}
	srv.Inject(osstest.Fault{Op: "HeadObject", Delay: time.Second})
	_, err = st.Stat(t.Context(), "k")
	if !storage.IsTransient(err) {
		t.Fatalf("stat timing out: %v", err)
	}
	srv.Inject(osstest.Fault{Op: "HeadObject", Drop: true})
	_, err = st.Stat(t.Context(), "k")
	if !storage.IsTransient(err) {
		t.Fatalf("stat on a dropped connection: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = st.Stat(ctx, "k")
	if !errors.Is(err, context.Canceled) || storage.IsTransient(err) {
		t.Fatalf("stat with a canceled context: %v", err)
	}
}

// A CRC-64 that differs from the data's is an ErrChecksumMismatch on
// every path.
func TestChecksumMismatch(t *testing.T) {
	srv := osstest.New(t, osstest.Options{})
	st := openFresh(t, srv)
	ctx := t.Context()
	data := payload(200_000)

	srv.Inject(osstest.Fault{Op: "PutObject", WrongCRC: true, Times: -1})
	_, err := st.Put(ctx, "k", bytes.NewReader(data), int64(len(data)), storage.Metadata{})
	wantErr(t, "put with a wrong CRC", err, storage.ErrChecksumMismatch, true)
	srv.ClearFaults()
	srv.Inject(osstest.Fault{Op: "PutObject", CorruptBody: true})
	_, err = st.Put(ctx, "k", onlyReader{bytes.NewReader(data)}, int64(len(data)), storage.Metadata{})
	wantErr(t, "put damaged in transit", err, storage.ErrChecksumMismatch, true)

	id, err := st.CreateMultipart(ctx, "mp", storage.Metadata{})
	if err != nil {
		t.Fatal(err)
	}
	srv.Inject(osstest.Fault{Op: "UploadPart", CorruptBody: true})
	_, err = st.UploadPart(ctx, "mp", id, 1, onlyReader{bytes.NewReader(data)}, int64(len(data)))
	wantErr(t, "part damaged in transit", err, storage.ErrChecksumMismatch, true)
	p1, err := st.UploadPart(ctx, "mp", id, 1, bytes.NewReader(data[:150_000]), 150_000)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := st.UploadPart(ctx, "mp", id, 2, bytes.NewReader(data[150_000:]), 50_000)
	if err != nil {
		t.Fatal(err)
	}
	srv.Inject(osstest.Fault{Op: "CompleteMultipartUpload", WrongCRC: true})
	_, err = st.CompleteMultipart(ctx, "mp", id, []storage.Part{p1, p2})
	wantErr(t, "complete with a wrong CRC", err, storage.ErrChecksumMismatch, true)

	mustPut(t, st, "good", data, storage.Metadata{})
	srv.Inject(osstest.Fault{Op: "GetObject", WrongCRC: true})
	_, err = readAll(st, ctx, "good", 0, -1)
	wantErr(t, "read with a wrong CRC", err, storage.ErrChecksumMismatch, true)
	srv.Inject(osstest.Fault{Op: "GetObject", CorruptBody: true})
	_, err = readAll(st, ctx, "good", 0, int64(len(data)))
	wantErr(t, "read of the whole object as a range, damaged", err, storage.ErrChecksumMismatch, true)
	// A partial range cannot be checked against the object's CRC.
	srv.Inject(osstest.Fault{Op: "GetObject", WrongCRC: true})
	if got, err := readAll(st, ctx, "good", 10, 100); err != nil || !bytes.Equal(got, data[10:110]) {
		t.Fatalf("ranged read: %v", err)
	}
}

func TestTruncatedBody(t *testing.T) {
	srv := osstest.New(t, osstest.Options{})
	st := openFresh(t, srv)
	data := payload(300_000)
	mustPut(t, st, "k", data, storage.Metadata{})
	for _, r := range [][2]int64{{0, -1}, {1000, 5000}} {
		srv.Inject(osstest.Fault{Op: "GetObject", TruncateBody: true})
		got, err := readAll(st, t.Context(), "k", r[0], r[1])
		if err == nil || !storage.IsTransient(err) {
			t.Fatalf("range %v: read %d bytes of a truncated body, err %v", r, len(got), err)
		}
	}
}

func TestArchive(t *testing.T) {
	srv := osstest.New(t, osstest.Options{})
	st := openFresh(t, srv)
	bucket := strings.TrimPrefix(st.String(), "oss://")
	ctx := t.Context()
	mustPut(t, st, "cold", []byte("frozen"), storage.Metadata{StorageClass: "archive"})
	info, err := st.Stat(ctx, "cold")
	if err != nil || !info.Restore || info.StorageClass != "Archive" || info.Meta.StorageClass != "" {
		t.Fatalf("stat archived object: %+v, %v", info, err)
	}
	page, err := st.List(ctx, storage.ListOptions{})
	if err != nil || len(page.Objects) != 1 || !page.Objects[0].Restore {
		t.Fatalf("list archived object: %+v, %v", page, err)
	}
	_, err = readAll(st, ctx, "cold", 0, -1)
	wantErr(t, "open archived object", err, storage.ErrNeedsRestore, false)
	if !strings.Contains(err.Error(), "restore it first") {
		t.Errorf("message %q does not say what to do", err)
	}
	srv.SetRestored(bucket, "cold", false)
	if info, _ := st.Stat(ctx, "cold"); !info.Restore {
		t.Fatal("object being restored reported readable")
	}
	srv.SetRestored(bucket, "cold", true)
	if info, _ := st.Stat(ctx, "cold"); info.Restore {
		t.Fatal("restored object reported archived")
	}
	if got, err := readAll(st, ctx, "cold", 0, -1); err != nil || string(got) != "frozen" {
		t.Fatalf("read restored object: %q, %v", got, err)
	}
	for _, class := range []string{"ColdArchive", "DeepColdArchive"} {
		srv.SetStorageClass(bucket, "cold", class)
		if info, _ := st.Stat(ctx, "cold"); !info.Restore {
			t.Errorf("%s object reported readable", class)
		}
	}
}

func TestWriteMetadata(t *testing.T) {
	srv := osstest.New(t, osstest.Options{})
	st := openFresh(t, srv)
	bucket := strings.TrimPrefix(st.String(), "oss://")
	// Random bytes labelled gzip must come back as stored, not
	// decompressed (or failing to decompress) on the way.
	data := payload(5000)
	meta := storage.Metadata{ContentEncoding: "gzip", StorageClass: "IA", ServerSideEncryption: "AES256",
		Expires: "Wed, 21 Oct 2037 07:28:00 GMT", User: map[string]string{storage.ModTimeMetaKey: "1700000000"}}
	res := mustPut(t, st, "z.gz", data, meta)
	if got, err := readAll(st, t.Context(), "z.gz", 0, -1); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read gzip-labelled object: %d bytes, %v", len(got), err)
	}
	_, h, _ := srv.Object(bucket, "z.gz")
	if h.Get("x-oss-storage-class") != "IA" || h.Get("x-oss-server-side-encryption") != "AES256" ||
		h.Get("x-oss-meta-"+storage.ModTimeMetaKey) != "1700000000" || h.Get("Expires") != meta.Expires {
		t.Fatalf("stored headers %v", h)
	}
	info, err := st.Stat(t.Context(), "z.gz")
	if err != nil || info.ETag != res.ETag || !info.Checksums.HasCRC64 || info.Checksums.CRC64 != res.Checksums.CRC64 ||
		len(info.Checksums.MD5) != 16 || info.Meta.User[storage.ModTimeMetaKey] != "1700000000" || info.Meta.Expires != meta.Expires {
		t.Fatalf("stat: %+v, %v", info, err)
	}
	_, err = st.Put(t.Context(), "bad", strings.NewReader("x"), 1, storage.Metadata{StorageClass: "Glacier"})
	if err == nil {
		t.Fatal("unknown storage class accepted")
	}
}

// An endpoint named like OSS's gives the region and is addressed
// virtual-host style; Spec.HTTPClient carries every request.
func TestEndpointNameAndHTTPClient(t *testing.T) {
	srv := osstest.New(t, osstest.Options{Region: "cn-shenzhen"})
	srv.CreateBucket("vhost")
	addr := strings.TrimPrefix(srv.URL, "http://")
	dials := 0
	spec := specFor(srv, "vhost")
	spec.Endpoint, spec.Region = "http://oss-cn-shenzhen.aliyuncs.com", ""
	spec.HTTPClient = &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		dials++
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}}
	st, err := oss.New(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, st, "a/b", []byte("hi"), storage.Metadata{})
	if got, err := readAll(st, t.Context(), "a/b", 0, -1); err != nil || string(got) != "hi" || dials == 0 {
		t.Fatalf("read through the custom client: %q, %v, %d dials", got, err, dials)
	}
}
