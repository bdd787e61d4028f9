package osstest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc64"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"

	"github.com/ossimport/ossimport/internal/storage/oss/osstest"
)

var versions = []struct {
	name string
	v    oss.SignatureVersionType
}{{"V1", oss.SignatureVersionV1}, {"V4", oss.SignatureVersionV4}}

// client returns an SDK client for srv signing with version; fns adjust
// its configuration.
func client(srv *osstest.Server, version oss.SignatureVersionType, fns ...func(*oss.Config)) *oss.Client {
	cfg := oss.LoadDefaultConfig().
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(srv.AccessKey, srv.SecretKey)).
		WithEndpoint(srv.URL).
		WithRegion(srv.Region).
		WithSignatureVersion(version)
	for _, fn := range fns {
		fn(cfg)
	}
	return oss.NewClient(cfg)
}

func payload(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed+1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func crc(b []byte) string {
	return strconv.FormatUint(crc64.Checksum(b, crc64.MakeTable(crc64.ECMA)), 10)
}

func serviceError(t *testing.T, err error) *oss.ServiceError {
	t.Helper()
	var se *oss.ServiceError
	if !errors.As(err, &se) {
		t.Fatalf("error %v is not a service error", err)
	}
	return se
}

func wantCode(t *testing.T, err error, status int, code string) {
	t.Helper()
	se := serviceError(t, err)
	if se.StatusCode != status || se.Code != code {
		t.Fatalf("got %d %s (%s), want %d %s", se.StatusCode, se.Code, se.Message, status, code)
	}
	if se.RequestID == "" {
		t.Errorf("error without request id")
	}
}

func put(t *testing.T, c *oss.Client, bucket, key string, data []byte, fns ...func(*oss.PutObjectRequest)) *oss.PutObjectResult {
	t.Helper()
	req := &oss.PutObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key), Body: bytes.NewReader(data)}
	for _, fn := range fns {
		fn(req)
	}
	res, err := c.PutObject(t.Context(), req)
	if err != nil {
		t.Fatalf("put %q: %v", key, err)
	}
	return res
}

func get(t *testing.T, c *oss.Client, bucket, key string, rng string) ([]byte, *oss.GetObjectResult, error) {
	t.Helper()
	req := &oss.GetObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key)}
	if rng != "" {
		req.Range, req.RangeBehavior = oss.Ptr(rng), oss.Ptr("standard")
	}
	res, err := c.GetObject(t.Context(), req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	return data, res, err
}

func TestSignatures(t *testing.T) {
	srv := osstest.New(t, osstest.Options{AccessKey: "ak-1", SecretKey: "secret-1"})
	srv.CreateBucket("sig")
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			good := client(srv, v.v)
			key := "dir/with space/+plus?q=1&x#frag/中文"
			put(t, good, "sig", key, []byte("hello"))
			data, _, err := get(t, good, "sig", key, "")
			if err != nil || string(data) != "hello" {
				t.Fatalf("get: %q, %v", data, err)
			}
			wrong := client(srv, v.v, func(c *oss.Config) {
				c.CredentialsProvider = credentials.NewStaticCredentialsProvider("ak-1", "wrong-secret")
			})
			_, err = wrong.PutObject(t.Context(), &oss.PutObjectRequest{Bucket: oss.Ptr("sig"), Key: oss.Ptr("k"), Body: strings.NewReader("x")})
			wantCode(t, err, 403, "SignatureDoesNotMatch")
			_, err = wrong.HeadObject(t.Context(), &oss.HeadObjectRequest{Bucket: oss.Ptr("sig"), Key: oss.Ptr(key)})
			wantCode(t, err, 403, "SignatureDoesNotMatch") // decoded from x-oss-err
			unknown := client(srv, v.v, func(c *oss.Config) {
				c.CredentialsProvider = credentials.NewStaticCredentialsProvider("nobody", "secret-1")
			})
			_, err = unknown.ListObjectsV2(t.Context(), &oss.ListObjectsV2Request{Bucket: oss.Ptr("sig")})
			wantCode(t, err, 403, "InvalidAccessKeyId")
		})
	}
	t.Run("V4WrongRegion", func(t *testing.T) {
		c := client(srv, oss.SignatureVersionV4, func(c *oss.Config) { c.Region = oss.Ptr("us-west-1") })
		_, err := c.HeadObject(t.Context(), &oss.HeadObjectRequest{Bucket: oss.Ptr("sig"), Key: oss.Ptr("k")})
		wantCode(t, err, 403, "SignatureDoesNotMatch")
	})
	t.Run("Anonymous", func(t *testing.T) {
		c := client(srv, oss.SignatureVersionV4, func(c *oss.Config) {
			c.CredentialsProvider = credentials.NewAnonymousCredentialsProvider()
		})
		_, err := c.GetObject(t.Context(), &oss.GetObjectRequest{Bucket: oss.Ptr("sig"), Key: oss.Ptr("k")})
		wantCode(t, err, 403, "AccessDenied")
	})
}

// A client addressing buckets virtual-host style on a real-looking
// endpoint reaches the server through a dialer that ignores the host.
func TestVirtualHostStyle(t *testing.T) {
	srv := osstest.New(t, osstest.Options{})
	srv.CreateBucket("vhost")
	addr := strings.TrimPrefix(srv.URL, "http://")
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}}
	for _, v := range versions {
		c := client(srv, v.v, func(c *oss.Config) {
			c.Endpoint = oss.Ptr("http://oss-" + srv.Region + ".aliyuncs.com")
			c.HttpClient = hc
		})
		put(t, c, "vhost", "a/b", []byte(v.name))
		data, _, err := get(t, c, "vhost", "a/b", "")
		if err != nil || string(data) != v.name {
			t.Fatalf("%s: get %q, %v", v.name, data, err)
		}
	}
	if got, _, _ := srv.Object("vhost", "a/b"); string(got) != "V4" {
		t.Fatalf("object = %q", got)
	}
}

func TestPutGetHeaders(t *testing.T) {
	srv := osstest.New(t, osstest.Options{})
	srv.CreateBucket("hdr")
	c := client(srv, oss.SignatureVersionV4)
	data := payload(1000, 1)
	res := put(t, c, "hdr", "obj.bin", data, func(r *oss.PutObjectRequest) {
		r.ContentType = oss.Ptr("application/x-test")
		r.CacheControl = oss.Ptr("no-cache")
		r.Metadata = map[string]string{"Owner": "ops"}
		r.StorageClass = oss.StorageClassIA
		r.ServerSideEncryption = oss.Ptr("AES256")
	})
	if oss.ToString(res.HashCRC64) != crc(data) {
		t.Errorf("put crc %s, want %s", oss.ToString(res.HashCRC64), crc(data))
	}
	etag := oss.ToString(res.ETag)
	if len(etag) != 34 || etag != strings.ToUpper(etag) || etag[0] != '"' {
		t.Errorf("ETag %q is not a quoted upper-case MD5", etag)
	}
	head, err := c.HeadObject(t.Context(), &oss.HeadObjectRequest{Bucket: oss.Ptr("hdr"), Key: oss.Ptr("obj.bin")})
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string]string{
		"ContentType": oss.ToString(head.ContentType), "CacheControl": oss.ToString(head.CacheControl),
		"meta owner": head.Metadata["owner"], "StorageClass": oss.ToString(head.StorageClass),
		"ObjectType": oss.ToString(head.ObjectType), "SSE": oss.ToString(head.ServerSideEncryption),
		"CRC": oss.ToString(head.HashCRC64), "ETag": oss.ToString(head.ETag),
	}
	want := map[string]string{
		"ContentType": "application/x-test", "CacheControl": "no-cache", "meta owner": "ops", "StorageClass": "IA",
		"ObjectType": "Normal", "SSE": "AES256", "CRC": crc(data), "ETag": etag,
	}
	for k, w := range want {
		if checks[k] != w {
			t.Errorf("%s = %q, want %q", k, checks[k], w)
		}
	}
	if head.ContentLength != 1000 || head.LastModified == nil || oss.ToString(head.ContentMD5) == "" {
		t.Errorf("head: length %d, last modified %v, md5 %q", head.ContentLength, head.LastModified, oss.ToString(head.ContentMD5))
	}
	got, gres, err := get(t, c, "hdr", "obj.bin", "")
	if err != nil || !bytes.Equal(got, data) || oss.ToString(gres.HashCRC64) != crc(data) {
		t.Fatalf("get: %d bytes, crc %s, %v", len(got), oss.ToString(gres.HashCRC64), err)
	}
}

func TestRanges(t *testing.T) {
	srv := osstest.New(t, osstest.Options{})
	srv.CreateBucket("rng")
	c := client(srv, oss.SignatureVersionV4)
	data := payload(1000, 2)
	put(t, c, "rng", "r", data)
	cases := []struct {
		rng        string
		start, end int
	}{{"bytes=0-0", 0, 0}, {"bytes=10-19", 10, 19}, {"bytes=990-", 990, 999}, {"bytes=-5", 995, 999}, {"bytes=500-5000", 500, 999}}
	for _, tc := range cases {
		got, res, err := get(t, c, "rng", "r", tc.rng)
		if err != nil {
			t.Fatalf("%s: %v", tc.rng, err)
		}
		if !bytes.Equal(got, data[tc.start:tc.end+1]) || res.StatusCode != 206 {
			t.Errorf("%s: status %d, %d bytes", tc.rng, res.StatusCode, len(got))
		}
		if want := fmt.Sprintf("bytes %d-%d/1000", tc.start, tc.end); oss.ToString(res.ContentRange) != want {
			t.Errorf("%s: Content-Range %q, want %q", tc.rng, oss.ToString(res.ContentRange), want)
		}
	}
	_, _, err := get(t, c, "rng", "r", "bytes=1000-")
	wantCode(t, err, 416, "InvalidRange")
	// Without x-oss-range-behavior: standard, OSS ignores such a range.
	res, err := c.GetObject(t.Context(), &oss.GetObjectRequest{Bucket: oss.Ptr("rng"), Key: oss.Ptr("r"), Range: oss.Ptr("bytes=2000-")})
	if err != nil || res.StatusCode != 200 || res.ContentLength != 1000 {
		t.Fatalf("legacy out-of-range get: %v", err)
	}
	res.Body.Close()
}

func TestErrors(t *testing.T) {
	srv := osstest.New(t, osstest.Options{})
	srv.CreateBucket("errs")
	c := client(srv, oss.SignatureVersionV4)
	ctx := t.Context()
	_, _, err := get(t, c, "errs", "missing", "")
	wantCode(t, err, 404, "NoSuchKey")
	_, err = c.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr("errs"), Key: oss.Ptr("missing")})
	wantCode(t, err, 404, "NoSuchKey")
	_, _, err = get(t, c, "nobucket", "k", "")
	wantCode(t, err, 404, "NoSuchBucket")
	_, err = c.ListParts(ctx, &oss.ListPartsRequest{Bucket: oss.Ptr("errs"), Key: oss.Ptr("k"), UploadId: oss.Ptr("nope")})
	wantCode(t, err, 404, "NoSuchUpload")
	_, err = c.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr("errs"), Key: oss.Ptr("/abs"), Body: strings.NewReader("x")})
	wantCode(t, err, 400, "InvalidObjectName")
	_, err = c.PutBucket(ctx, &oss.PutBucketRequest{Bucket: oss.Ptr("Bad_Name")})
	if err == nil {
		t.Fatal("bucket with an invalid name created")
	}
	_, err = c.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr("errs"), Key: oss.Ptr("k"), Body: strings.NewReader("x"), StorageClass: "Glacier"})
	wantCode(t, err, 400, "InvalidArgument")

	// The raw error document.
	resp, err := http.Get(srv.URL + "/errs/missing")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(body), "<Code>AccessDenied</Code>") ||
		!strings.Contains(string(body), "<RequestId>") || !strings.Contains(string(body), "<HostId>") ||
		resp.Header.Get("x-oss-request-id") == "" {
		t.Fatalf("unsigned request: %d %s", resp.StatusCode, body)
	}
}

func TestBuckets(t *testing.T) {
	srv := osstest.New(t, osstest.Options{})
	c := client(srv, oss.SignatureVersionV4)
	ctx := t.Context()
	if _, err := c.PutBucket(ctx, &oss.PutBucketRequest{Bucket: oss.Ptr("made-by-sdk")}); err != nil {
		t.Fatal(err)
	}
	ok, err := c.IsBucketExist(ctx, "made-by-sdk")
	if err != nil || !ok {
		t.Fatalf("IsBucketExist = %v, %v", ok, err)
	}
	if ok, err := c.IsBucketExist(ctx, "not-made"); err != nil || ok {
		t.Fatalf("IsBucketExist(not-made) = %v, %v", ok, err)
	}
	info, err := c.GetBucketInfo(ctx, &oss.GetBucketInfoRequest{Bucket: oss.Ptr("made-by-sdk")})
	if err != nil || oss.ToString(info.BucketInfo.Name) != "made-by-sdk" {
		t.Fatalf("GetBucketInfo: %+v, %v", info, err)
	}
	put(t, c, "made-by-sdk", "x", []byte("x"))
	_, err = c.DeleteBucket(ctx, &oss.DeleteBucketRequest{Bucket: oss.Ptr("made-by-sdk")})
	wantCode(t, err, 409, "BucketNotEmpty")
}

func TestListing(t *testing.T) {
	srv := osstest.New(t, osstest.Options{})
	srv.CreateBucket("lst")
	c := client(srv, oss.SignatureVersionV4)
	keys := []string{"a", "a b", "a+b", "a/1", "a/2/x", "a/2/y", "a/3", "b%20c", "中"}
	for _, k := range keys {
		put(t, c, "lst", k, []byte(k))
	}
	var got []string
	var token *string
	for pages := 0; ; pages++ {
		res, err := c.ListObjectsV2(t.Context(), &oss.ListObjectsV2Request{Bucket: oss.Ptr("lst"), MaxKeys: 2, ContinuationToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range res.Contents {
			got = append(got, oss.ToString(o.Key))
		}
		if !res.IsTruncated {
			break
		}
		token = res.NextContinuationToken
	}
	if fmt.Sprint(got) != fmt.Sprint(keys) {
		t.Fatalf("v2 flat listing %q, want %q", got, keys)
	}
	// v1 with a delimiter: NextMarker may be a common prefix, which must
	// not be repeated on the next page.
	var objs, prefixes []string
	marker := ""
	for {
		res, err := c.ListObjects(t.Context(), &oss.ListObjectsRequest{Bucket: oss.Ptr("lst"), Prefix: oss.Ptr("a/"), Delimiter: oss.Ptr("/"), MaxKeys: 1, Marker: oss.Ptr(marker)})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range res.Contents {
			objs = append(objs, oss.ToString(o.Key))
		}
		for _, p := range res.CommonPrefixes {
			prefixes = append(prefixes, oss.ToString(p.Prefix))
		}
		if !res.IsTruncated {
			break
		}
		marker = oss.ToString(res.NextMarker)
	}
	if fmt.Sprint(objs) != "[a/1 a/3]" || fmt.Sprint(prefixes) != "[a/2/]" {
		t.Fatalf("v1 delimited listing: objects %q prefixes %q", objs, prefixes)
	}
	res, err := c.ListObjectsV2(t.Context(), &oss.ListObjectsV2Request{Bucket: oss.Ptr("lst"), StartAfter: oss.Ptr("a/3"), Prefix: oss.Ptr("")})
	if err != nil || len(res.Contents) != 2 || oss.ToString(res.Contents[0].Key) != "b%20c" {
		t.Fatalf("start-after: %+v, %v", res, err)
	}
}

// mpu drives one multipart upload of key "big" in bucket "mpu".
type mpu struct {
	t  *testing.T
	c  *oss.Client
	id string
}

func startUpload(t *testing.T, c *oss.Client) *mpu {
	t.Helper()
	res, err := c.InitiateMultipartUpload(t.Context(), &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr("mpu"), Key: oss.Ptr("big"), ContentType: oss.Ptr("text/x-mp")})
	if err != nil {
		t.Fatal(err)
	}
	return &mpu{t: t, c: c, id: oss.ToString(res.UploadId)}
}

func (m *mpu) upload(n int32, data []byte) oss.UploadPart {
	m.t.Helper()
	res, err := m.c.UploadPart(m.t.Context(), &oss.UploadPartRequest{Bucket: oss.Ptr("mpu"), Key: oss.Ptr("big"), UploadId: oss.Ptr(m.id), PartNumber: n, Body: bytes.NewReader(data)})
	if err != nil {
		m.t.Fatal(err)
	}
	if oss.ToString(res.HashCRC64) != crc(data) {
		m.t.Errorf("part %d crc %s, want %s", n, oss.ToString(res.HashCRC64), crc(data))
	}
	return oss.UploadPart{PartNumber: n, ETag: res.ETag}
}

func (m *mpu) complete(parts ...oss.UploadPart) (*oss.CompleteMultipartUploadResult, error) {
	return m.c.CompleteMultipartUpload(m.t.Context(), &oss.CompleteMultipartUploadRequest{Bucket: oss.Ptr("mpu"), Key: oss.Ptr("big"),
		UploadId: oss.Ptr(m.id), CompleteMultipartUpload: &oss.CompleteMultipartUpload{Parts: parts}})
}

func (m *mpu) listParts(pageSize int32) []int32 {
	m.t.Helper()
	var listed []int32
	var marker int32
	for {
		res, err := m.c.ListParts(m.t.Context(), &oss.ListPartsRequest{Bucket: oss.Ptr("mpu"), Key: oss.Ptr("big"), UploadId: oss.Ptr(m.id), MaxParts: pageSize, PartNumberMarker: marker})
		if err != nil {
			m.t.Fatal(err)
		}
		for _, p := range res.Parts {
			listed = append(listed, p.PartNumber)
		}
		if !res.IsTruncated {
			return listed
		}
		marker = res.NextPartNumberMarker
	}
}

func TestMultipartRules(t *testing.T) {
	srv := osstest.New(t, osstest.Options{})
	srv.CreateBucket("mpu")
	m := startUpload(t, client(srv, oss.SignatureVersionV4))
	small, big := payload(1000, 3), payload(100<<10, 4)
	p1, p2 := m.upload(1, small), m.upload(2, small)
	_, err := m.complete(p1, p2)
	wantCode(t, err, 400, "EntityTooSmall")
	_, err = m.complete(p1, p1) // the SDK sorts parts, so repeat one
	wantCode(t, err, 400, "InvalidPartOrder")
	_, err = m.complete(p1, oss.UploadPart{PartNumber: 2, ETag: oss.Ptr(`"0000"`)})
	wantCode(t, err, 400, "InvalidPart")

	p1 = m.upload(1, big) // replaces the first upload of part 1
	for n := int32(3); n <= 5; n++ {
		m.upload(n, small)
	}
	if listed := m.listParts(2); fmt.Sprint(listed) != "[1 2 3 4 5]" {
		t.Fatalf("listed parts %v", listed)
	}
	res, err := m.complete(p1, p2)
	if err != nil {
		t.Fatal(err)
	}
	whole := append(append([]byte(nil), big...), small...)
	if oss.ToString(res.HashCRC64) != crc(whole) || !strings.HasSuffix(oss.ToString(res.ETag), `-2"`) {
		t.Fatalf("complete: crc %s (want %s), etag %s", oss.ToString(res.HashCRC64), crc(whole), oss.ToString(res.ETag))
	}
	data, hdr, _ := srv.Object("mpu", "big")
	if !bytes.Equal(data, whole) || hdr.Get("x-oss-object-type") != "Multipart" || hdr.Get("Content-Type") != "text/x-mp" {
		t.Fatalf("object: %d bytes, headers %v", len(data), hdr)
	}
	if srv.Uploads("mpu") != 0 {
		t.Fatalf("upload still listed after completion")
	}
}

func TestMultipartAbort(t *testing.T) {
	srv := osstest.New(t, osstest.Options{})
	srv.CreateBucket("mpu")
	c := client(srv, oss.SignatureVersionV4)
	m := startUpload(t, c)
	m.upload(1, payload(10, 1))
	uploads, err := c.ListMultipartUploads(t.Context(), &oss.ListMultipartUploadsRequest{Bucket: oss.Ptr("mpu")})
	if err != nil || len(uploads.Uploads) != 1 || oss.ToString(uploads.Uploads[0].UploadId) != m.id {
		t.Fatalf("list uploads: %+v, %v", uploads, err)
	}
	if _, err := c.AbortMultipartUpload(t.Context(), &oss.AbortMultipartUploadRequest{Bucket: oss.Ptr("mpu"), Key: oss.Ptr("big"), UploadId: oss.Ptr(m.id)}); err != nil {
		t.Fatal(err)
	}
	_, err = m.complete(oss.UploadPart{PartNumber: 1, ETag: oss.Ptr("x")})
	wantCode(t, err, 404, "NoSuchUpload")
	if srv.Uploads("mpu") != 0 {
		t.Fatal("aborted upload still listed")
	}
}

// The SDK's uploader and downloader move a large object through the
// server, checking CRC-64s on the way.
func TestUploaderDownloader(t *testing.T) {
	srv := osstest.New(t, osstest.Options{})
	srv.CreateBucket("xfer")
	c := client(srv, oss.SignatureVersionV4)
	data := payload(9<<18+123, 5)
	up := c.NewUploader(func(o *oss.UploaderOptions) { o.PartSize = 1 << 18; o.ParallelNum = 4 })
	res, err := up.UploadFrom(t.Context(), &oss.PutObjectRequest{Bucket: oss.Ptr("xfer"), Key: oss.Ptr("big.bin")}, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if oss.ToString(res.HashCRC64) != crc(data) {
		t.Fatalf("uploader crc %s", oss.ToString(res.HashCRC64))
	}
	if n := srv.Count("UploadPart"); n != 10 {
		t.Errorf("UploadPart count %d, want 10", n)
	}
	path := filepath.Join(t.TempDir(), "out")
	down := c.NewDownloader(func(o *oss.DownloaderOptions) { o.PartSize = 1 << 18; o.ParallelNum = 3 })
	if _, err := down.DownloadFile(t.Context(), &oss.GetObjectRequest{Bucket: oss.Ptr("xfer"), Key: oss.Ptr("big.bin")}, path); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if !bytes.Equal(got, data) {
		t.Fatal("downloaded data differs")
	}
}

// The SDK detects wrong CRC-64s the server reports or data damaged on the
// way: this is the end-to-end check real OSS offers.
func TestCRCDetectedBySDK(t *testing.T) {
	srv := osstest.New(t, osstest.Options{})
	srv.CreateBucket("crc")
	c := client(srv, oss.SignatureVersionV4, func(c *oss.Config) { c.RetryMaxAttempts = oss.Ptr(1) })
	data := payload(300_000, 6)
	isCRCError := func(what string, err error) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), "crc is inconsistent") {
			t.Errorf("%s: error %v, want a CRC error", what, err)
		}
	}
	srv.Inject(osstest.Fault{Op: "PutObject", WrongCRC: true})
	_, err := c.PutObject(t.Context(), &oss.PutObjectRequest{Bucket: oss.Ptr("crc"), Key: oss.Ptr("k"), Body: bytes.NewReader(data)})
	isCRCError("put with a wrong CRC header", err)

	srv.Inject(osstest.Fault{Op: "PutObject", CorruptBody: true})
	_, err = c.PutObject(t.Context(), &oss.PutObjectRequest{Bucket: oss.Ptr("crc"), Key: oss.Ptr("k"), Body: bytes.NewReader(data)})
	isCRCError("put damaged in transit", err)

	put(t, c, "crc", "k", data)
	down := c.NewDownloader(func(o *oss.DownloaderOptions) { o.PartSize = 1 << 20 })
	srv.Inject(osstest.Fault{Op: "HeadObject", WrongCRC: true})
	_, err = down.DownloadFile(t.Context(), &oss.GetObjectRequest{Bucket: oss.Ptr("crc"), Key: oss.Ptr("k")}, filepath.Join(t.TempDir(), "a"))
	isCRCError("download with a wrong CRC header", err)

	srv.Inject(osstest.Fault{Op: "GetObject", CorruptBody: true})
	_, err = down.DownloadFile(t.Context(), &oss.GetObjectRequest{Bucket: oss.Ptr("crc"), Key: oss.Ptr("k")}, filepath.Join(t.TempDir(), "b"))
	isCRCError("download damaged in transit", err)

	// GetObject itself reports the server's CRC; a reader compares it.
	srv.Inject(osstest.Fault{Op: "GetObject", WrongCRC: true})
	got, res, err := get(t, c, "crc", "k", "")
	if err != nil || !bytes.Equal(got, data) || oss.ToString(res.HashCRC64) == crc(data) {
		t.Errorf("GetObject with WrongCRC: header %s, real %s, %v", oss.ToString(res.HashCRC64), crc(data), err)
	}

	up := c.NewUploader(func(o *oss.UploaderOptions) { o.PartSize = 100 << 10 })
	srv.Inject(osstest.Fault{Op: "UploadPart", WrongCRC: true})
	_, err = up.UploadFrom(t.Context(), &oss.PutObjectRequest{Bucket: oss.Ptr("crc"), Key: oss.Ptr("mpu")}, bytes.NewReader(data))
	isCRCError("part with a wrong CRC header", err)
	srv.Inject(osstest.Fault{Op: "CompleteMultipartUpload", WrongCRC: true})
	_, err = up.UploadFrom(t.Context(), &oss.PutObjectRequest{Bucket: oss.Ptr("crc"), Key: oss.Ptr("mpu")}, bytes.NewReader(data))
	isCRCError("multipart object with a wrong CRC header", err)
}

func TestFaults(t *testing.T) {
	srv := osstest.New(t, osstest.Options{})
	srv.CreateBucket("flt")
	c := client(srv, oss.SignatureVersionV4)
	data := payload(10_000, 7)

	// The SDK retries 5xx answers when it can rewind the body.
	srv.Inject(osstest.Fault{Op: "PutObject", Key: "r", Status: 503, Times: 2})
	put(t, c, "flt", "r", data)
	if n := srv.Count("PutObject"); n != 3 {
		t.Errorf("PutObject count %d, want 3", n)
	}
	srv.Inject(osstest.Fault{Op: "GetObject", Status: 500, Code: "InternalError", Times: -1})
	_, _, err := get(t, c, "flt", "r", "")
	wantCode(t, err, 500, "InternalError")
	srv.ClearFaults()

	srv.Inject(osstest.Fault{Op: "GetObject", TruncateBody: true})
	res, err := c.GetObject(t.Context(), &oss.GetObjectRequest{Bucket: oss.Ptr("flt"), Key: oss.Ptr("r")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err == nil || len(got) >= len(data) {
		t.Fatalf("truncated body: read %d bytes, err %v", len(got), err)
	}

	slow := client(srv, oss.SignatureVersionV4, func(c *oss.Config) {
		c.HttpClient = &http.Client{Timeout: 100 * time.Millisecond}
		c.RetryMaxAttempts = oss.Ptr(1)
	})
	srv.Inject(osstest.Fault{Op: "HeadObject", Delay: time.Second})
	if _, err := slow.HeadObject(t.Context(), &oss.HeadObjectRequest{Bucket: oss.Ptr("flt"), Key: oss.Ptr("r")}); err == nil {
		t.Fatal("delayed request did not time out")
	}
	srv.Inject(osstest.Fault{Op: "HeadObject", Drop: true})
	if _, err := slow.HeadObject(t.Context(), &oss.HeadObjectRequest{Bucket: oss.Ptr("flt"), Key: oss.Ptr("r")}); err == nil {
		t.Fatal("dropped connection did not fail")
	}
}

func TestArchive(t *testing.T) {
	srv := osstest.New(t, osstest.Options{})
	srv.CreateBucket("arc")
	c := client(srv, oss.SignatureVersionV4)
	put(t, c, "arc", "cold", []byte("frozen"), func(r *oss.PutObjectRequest) { r.StorageClass = oss.StorageClassArchive })
	_, _, err := get(t, c, "arc", "cold", "")
	wantCode(t, err, 403, "InvalidObjectState")
	head, err := c.HeadObject(t.Context(), &oss.HeadObjectRequest{Bucket: oss.Ptr("arc"), Key: oss.Ptr("cold")})
	if err != nil || oss.ToString(head.StorageClass) != "Archive" {
		t.Fatalf("head archived object: %v", err)
	}
	if _, err := c.RestoreObject(t.Context(), &oss.RestoreObjectRequest{Bucket: oss.Ptr("arc"), Key: oss.Ptr("cold")}); err != nil {
		t.Fatal(err)
	}
	_, _, err = get(t, c, "arc", "cold", "")
	wantCode(t, err, 403, "InvalidObjectState")
	srv.SetRestored("arc", "cold", true)
	if data, _, err := get(t, c, "arc", "cold", ""); err != nil || string(data) != "frozen" {
		t.Fatalf("get restored object: %q, %v", data, err)
	}
	put(t, c, "arc", "later", []byte("x"))
	srv.SetStorageClass("arc", "later", "ColdArchive")
	_, _, err = get(t, c, "arc", "later", "")
	wantCode(t, err, 403, "InvalidObjectState")
}

func TestCopy(t *testing.T) {
	srv := osstest.New(t, osstest.Options{})
	srv.CreateBucket("cpy")
	c := client(srv, oss.SignatureVersionV4)
	ctx := t.Context()
	data := payload(250_000, 8)
	put(t, c, "cpy", "src key+", data, func(r *oss.PutObjectRequest) {
		r.ContentType = oss.Ptr("text/x-src")
		r.Metadata = map[string]string{"a": "1"}
	})
	res, err := c.CopyObject(ctx, &oss.CopyObjectRequest{Bucket: oss.Ptr("cpy"), Key: oss.Ptr("dst"), SourceKey: oss.Ptr("src key+")})
	if err != nil || oss.ToString(res.HashCRC64) != crc(data) || oss.ToString(res.ETag) == "" {
		t.Fatalf("copy: %+v, %v", res, err)
	}
	got, hdr, _ := srv.Object("cpy", "dst")
	if !bytes.Equal(got, data) || hdr.Get("Content-Type") != "text/x-src" || hdr.Get("x-oss-meta-a") != "1" {
		t.Fatalf("copied object: %d bytes, %v", len(got), hdr)
	}
	_, err = c.CopyObject(ctx, &oss.CopyObjectRequest{Bucket: oss.Ptr("cpy"), Key: oss.Ptr("dst2"), SourceKey: oss.Ptr("src key+"),
		MetadataDirective: oss.Ptr("REPLACE"), ContentType: oss.Ptr("text/x-new")})
	if _, hdr, _ := srv.Object("cpy", "dst2"); err != nil || hdr.Get("Content-Type") != "text/x-new" || hdr.Get("x-oss-meta-a") != "" {
		t.Fatalf("copy with REPLACE: %v, %v", hdr, err)
	}
	_, err = c.CopyObject(ctx, &oss.CopyObjectRequest{Bucket: oss.Ptr("cpy"), Key: oss.Ptr("x"), SourceKey: oss.Ptr("missing")})
	wantCode(t, err, 404, "NoSuchKey")

	init, err := c.InitiateMultipartUpload(ctx, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr("cpy"), Key: oss.Ptr("parts")})
	if err != nil {
		t.Fatal(err)
	}
	var parts []oss.UploadPart
	for i, r := range [][2]int{{0, 149_999}, {150_000, 249_999}} {
		pc, err := c.UploadPartCopy(ctx, &oss.UploadPartCopyRequest{Bucket: oss.Ptr("cpy"), Key: oss.Ptr("parts"), UploadId: init.UploadId,
			PartNumber: int32(i + 1), SourceKey: oss.Ptr("src key+"), Range: oss.Ptr(fmt.Sprintf("bytes=%d-%d", r[0], r[1]))})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, oss.UploadPart{PartNumber: int32(i + 1), ETag: pc.ETag})
	}
	_, err = c.UploadPartCopy(ctx, &oss.UploadPartCopyRequest{Bucket: oss.Ptr("cpy"), Key: oss.Ptr("parts"), UploadId: init.UploadId,
		PartNumber: 3, SourceKey: oss.Ptr("src key+"), IfMatch: oss.Ptr(`"NOT-THE-ETAG"`)})
	wantCode(t, err, 412, "PreconditionFailed")
	done, err := c.CompleteMultipartUpload(ctx, &oss.CompleteMultipartUploadRequest{Bucket: oss.Ptr("cpy"), Key: oss.Ptr("parts"),
		UploadId: init.UploadId, CompleteMultipartUpload: &oss.CompleteMultipartUpload{Parts: parts}})
	if err != nil || oss.ToString(done.HashCRC64) != crc(data) {
		t.Fatalf("complete copied parts: %v", err)
	}
}

// Objects of a few hundred MiB stream through files, not memory.
func TestLargeObject(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("256 MiB object: skipped in short mode and under the race detector")
	}
	srv := osstest.New(t, osstest.Options{})
	srv.CreateBucket("large")
	c := client(srv, oss.SignatureVersionV4)
	const size = 256 << 20
	_, err := c.PutObject(t.Context(), &oss.PutObjectRequest{Bucket: oss.Ptr("large"), Key: oss.Ptr("big"),
		Body: io.LimitReader(zeroReader{}, size), ContentLength: oss.Ptr(int64(size))})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.GetObject(t.Context(), &oss.GetObjectRequest{Bucket: oss.Ptr("large"), Key: oss.Ptr("big")})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	h := crc64.New(crc64.MakeTable(crc64.ECMA))
	n, err := io.Copy(h, res.Body)
	if err != nil || n != size || strconv.FormatUint(h.Sum64(), 10) != oss.ToString(res.HashCRC64) {
		t.Fatalf("read back %d bytes, %v", n, err)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
