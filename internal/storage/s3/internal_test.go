package s3

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/ossimport/ossimport/internal/storage"
)

// apiErr builds an SDK-shaped error: an API error code inside a response
// error with an HTTP status.
func apiErr(code string, status int) error {
	var inner error = &smithy.GenericAPIError{Code: code, Message: "message from the service"}
	if code == "" {
		inner = errors.New("http response error")
	}
	return &smithy.OperationError{
		ServiceID:     "S3",
		OperationName: "HeadObject",
		Err: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
			Err:      inner,
		},
	}
}

func TestWrapErr(t *testing.T) {
	s := &Store{cfg: Config{Name: "s3", Bucket: "bkt", Endpoint: "http://127.0.0.1:7070"}}
	cases := []struct {
		err       error
		sentinel  error
		transient bool
		text      string
	}{
		{apiErr("NoSuchKey", 404), storage.ErrNotExist, false, `stat "k": file does not exist`},
		{apiErr("", 404), storage.ErrNotExist, false, ""},
		{apiErr("NoSuchBucket", 404), storage.ErrBucketNotExist, false, `check the bucket name "bkt"`},
		{apiErr("NoSuchUpload", 404), storage.ErrNotExist, false, ""},
		{apiErr("SignatureDoesNotMatch", 403), storage.ErrAccessDenied, false, "access denied: SignatureDoesNotMatch: check the secret key"},
		{apiErr("InvalidAccessKeyId", 403), storage.ErrAccessDenied, false, "InvalidAccessKeyId"},
		{apiErr("", 403), storage.ErrAccessDenied, false, `may access bucket "bkt"`},
		{apiErr("InvalidObjectState", 403), storage.ErrNeedsRestore, false, "restore"},
		{apiErr("NotImplemented", 501), storage.ErrNotSupported, false, ""},
		{apiErr("SlowDown", 503), nil, true, "SlowDown"},
		{apiErr("", 500), nil, true, ""},
		{apiErr("", 429), nil, true, ""},
		{apiErr("RequestTimeout", 400), nil, true, ""},
		{apiErr("XAmzContentSHA256Mismatch", 400), storage.ErrChecksumMismatch, true, ""},
		{apiErr("BadDigest", 400), storage.ErrChecksumMismatch, true, "checksum"},
		{apiErr("InvalidArgument", 400), nil, false, ""},
		{apiErr("PermanentRedirect", 301), nil, false, "another region"},
		{&smithyhttp.RequestSendError{Err: errors.New("connection dropped")}, nil, true, ""},
		{fmt.Errorf("op: %w", context.Canceled), context.Canceled, false, ""},
		{&smithy.DeserializationError{Err: io.ErrUnexpectedEOF}, nil, true, ""},
		{&smithyhttp.RequestSendError{Err: &net.DNSError{Err: "no such host", Name: "x", IsNotFound: true}}, nil, false, ""},
	}
	for _, c := range cases {
		got := s.wrapErr("stat", "k", c.err)
		if c.sentinel != nil && !errors.Is(got, c.sentinel) {
			t.Errorf("%v: %q does not wrap %v", c.err, got, c.sentinel)
		}
		if !errors.Is(got, c.err) {
			t.Errorf("%v: %q does not wrap the original error", c.err, got)
		}
		if storage.IsTransient(got) != c.transient {
			t.Errorf("%v: transient = %v, want %v", c.err, storage.IsTransient(got), c.transient)
		}
		if !strings.Contains(got.Error(), c.text) || !strings.HasPrefix(got.Error(), `stat "k": `) {
			t.Errorf("%v: message %q lacks %q", c.err, got, c.text)
		}
		if !errors.Is(got, context.Canceled) && !strings.Contains(got.Error(), "s3://bkt (127.0.0.1:7070): ") {
			t.Errorf("%v: message %q does not name the bucket and endpoint", c.err, got)
		}
	}
	if s.wrapErr("stat", "k", nil) != nil {
		t.Error("wrapErr(nil) != nil")
	}
}

func TestRegionFromAWSHost(t *testing.T) {
	cases := map[string]string{
		"s3.amazonaws.com":                     "us-east-1",
		"s3.us-west-2.amazonaws.com":           "us-west-2",
		"s3-eu-west-1.amazonaws.com":           "eu-west-1",
		"s3-external-1.amazonaws.com":          "us-east-1",
		"s3.dualstack.ap-east-1.amazonaws.com": "ap-east-1",
		"bucket.s3.eu-central-1.amazonaws.com": "eu-central-1",
		"s3.cn-north-1.amazonaws.com.cn":       "cn-north-1",
		"oss-cn-hangzhou.aliyuncs.com":         "us-east-1",
		"127.0.0.1":                            "us-east-1",
		"s3-accelerate.amazonaws.com":          "us-east-1",
	}
	for host, want := range cases {
		if got := regionFromAWSHost(host); got != want {
			t.Errorf("regionFromAWSHost(%q) = %q, want %q", host, got, want)
		}
	}
}

func TestNormalizeEndpoint(t *testing.T) {
	cases := []struct{ in, endpoint, host string }{
		{"", "", ""},
		{"s3.us-west-2.amazonaws.com", "https://s3.us-west-2.amazonaws.com", "s3.us-west-2.amazonaws.com"},
		{"http://127.0.0.1:7070/", "http://127.0.0.1:7070", "127.0.0.1"},
		{" HTTPS://Cos.AP-Guangzhou.myqcloud.com ", "HTTPS://Cos.AP-Guangzhou.myqcloud.com", "cos.ap-guangzhou.myqcloud.com"},
	}
	for _, c := range cases {
		endpoint, host, err := normalizeEndpoint(c.in)
		if err != nil || endpoint != c.endpoint || host != c.host {
			t.Errorf("normalizeEndpoint(%q) = %q, %q, %v; want %q, %q", c.in, endpoint, host, err, c.endpoint, c.host)
		}
	}
	if _, _, err := normalizeEndpoint("ftp://x"); err == nil {
		t.Error("ftp endpoint accepted")
	}
}

func TestCopySource(t *testing.T) {
	got := copySource("bkt", "dir/a b+c%d?é~_.-")
	want := "bkt/dir/a%20b%2Bc%25d%3F%C3%A9~_.-"
	if got != want {
		t.Errorf("copySource = %q, want %q", got, want)
	}
}

func TestCopyPartSize(t *testing.T) {
	s := &Store{}
	if got := s.copyPartSize(10 * gib); got != defaultCopyPartSize {
		t.Errorf("10 GiB: part size %d", got)
	}
	if got := s.copyPartSize(MaxObjectSize); got*MaxParts < MaxObjectSize || got%mib != 0 || got > MaxPartSize {
		t.Errorf("5 TiB: part size %d", got)
	}
	s.cfg.CopyPartSize = 1
	if got := s.copyPartSize(100 * mib); got != MinPartSize {
		t.Errorf("tiny configured part size gave %d, want %d", got, MinPartSize)
	}
}

func TestWindow(t *testing.T) {
	r := bytes.NewReader([]byte("0123456789"))
	if _, err := r.Seek(2, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	w := &window{rs: r, base: 2, size: 5}
	for range 2 { // read, rewind, read again
		got, err := io.ReadAll(w)
		if err != nil || string(got) != "23456" {
			t.Fatalf("window read %q, %v", got, err)
		}
		if n, err := w.Seek(0, io.SeekStart); n != 0 || err != nil {
			t.Fatalf("seek start: %d, %v", n, err)
		}
	}
	if n, err := w.Seek(0, io.SeekEnd); n != 5 || err != nil {
		t.Fatalf("seek end: %d, %v", n, err)
	}
	short := &window{rs: bytes.NewReader([]byte("abc")), size: 5}
	if _, err := io.ReadAll(short); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("short window: err %v", err)
	}
	once := &onceReader{r: strings.NewReader("abcdef"), left: 4}
	if got, err := io.ReadAll(once); string(got) != "abcd" || err != nil {
		t.Fatalf("onceReader read %q, %v", got, err)
	}
	once = &onceReader{r: strings.NewReader("ab"), left: 4}
	if _, err := io.ReadAll(once); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("short onceReader: err %v", err)
	}
}

func TestIsArchiveClass(t *testing.T) {
	for class, want := range map[string]bool{
		"GLACIER": true, "DEEP_ARCHIVE": true, "ARCHIVE": true, "COLD_ARCHIVE": true,
		"GLACIER_IR": false, "STANDARD": false, "STANDARD_IA": false, "": false, "INTELLIGENT_TIERING": false,
	} {
		if isArchiveClass(class) != want {
			t.Errorf("isArchiveClass(%q) = %v", class, !want)
		}
	}
	if !restoreDone(`ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"`) || restoreDone(`ongoing-request="true"`) || restoreDone("") {
		t.Error("restoreDone misreads x-amz-restore")
	}
}

// TestChunkedBody frames bodies of sizes around the chunk size, and
// checks the framing byte for byte, its length against encodedLength,
// and the trailer against the CRC-32C.
func TestChunkedBody(t *testing.T) {
	for _, size := range []int64{1, 100, trailerChunkSize - 1, trailerChunkSize, trailerChunkSize + 1, 3 * trailerChunkSize, 3*trailerChunkSize + 17} {
		data := bytes.Repeat([]byte("0123456789abcdef"), int(size/16)+1)[:size]
		var want bytes.Buffer
		for rest := data; len(rest) > 0; {
			n := min(len(rest), trailerChunkSize)
			fmt.Fprintf(&want, "%x\r\n%s\r\n", n, rest[:n])
			rest = rest[n:]
		}
		crc := crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli))
		fmt.Fprintf(&want, "0\r\nx-amz-checksum-crc32c:%s\r\n\r\n", base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, crc)))
		// A reader handing out half of what is asked, with io.EOF beside
		// the last bytes.
		got, err := io.ReadAll(newChunkedBody(&onceReader{r: iotest.DataErrReader(iotest.HalfReader(bytes.NewReader(data))), left: size}, nil, size, 0))
		if err != nil || !bytes.Equal(got, want.Bytes()) {
			t.Errorf("size %d: framed %d bytes (%v), want %d", size, len(got), err, want.Len())
		}
		if n := encodedLength(size); n != int64(want.Len()) {
			t.Errorf("size %d: encodedLength %d, want %d", size, n, want.Len())
		}
	}
	short := newChunkedBody(&onceReader{r: strings.NewReader("abc"), left: 10}, nil, 10, 0)
	if _, err := io.ReadAll(short); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("a short body: %v, want io.ErrUnexpectedEOF", err)
	}
}

// summedBody is a caller's body that hashes its own bytes (storage.CRC32CBody).
type summedBody struct {
	io.Reader
	sum uint32
	has bool
}

func (summedBody) CheckedByCaller()            {}
func (b summedBody) SumCRC32C() (uint32, bool) { return b.sum, b.has }

// TestChunkedBodyTakesTheCallersCRC32C: a body that computes its CRC-32C
// is not hashed again: its sum goes in the trailer (here one that is not
// the data's, to tell them apart); one that computes none is hashed.
func TestChunkedBodyTakesTheCallersCRC32C(t *testing.T) {
	data := []byte("hello world")
	for _, c := range []struct {
		body summedBody
		want uint32
	}{
		{summedBody{Reader: bytes.NewReader(data), sum: 0x01020304, has: true}, 0x01020304},
		{summedBody{Reader: bytes.NewReader(data)}, crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli))},
	} {
		got, err := io.ReadAll(newChunkedBody(&onceReader{r: c.body, left: int64(len(data))}, c.body, int64(len(data)), 0))
		if want := "x-amz-checksum-crc32c:" + encodeCRC32C(c.want) + "\r\n"; err != nil || !strings.Contains(string(got), want) {
			t.Errorf("framed %q (%v), want the trailer %q", got, err, want)
		}
	}
}

// TestParseCRC32C: a missing checksum is unknown, a malformed one an
// error naming the object.
func TestParseCRC32C(t *testing.T) {
	if sums, err := parseCRC32C("yZRlqg=="); err != nil || !sums.HasCRC32C || sums.CRC32C != 0xc99465aa {
		t.Errorf("parse: %+v, %v", sums, err)
	}
	if sums, err := parseCRC32C(""); err != nil || sums.HasCRC32C {
		t.Errorf("parse of nothing: %+v, %v", sums, err)
	}
	s := &Store{cfg: Config{Name: "s3", Bucket: "bkt", TrailingCRC32C: true}}
	for _, bad := range []string{"!!!!", "AAAAAAAA", "AAA="} {
		if _, err := s.putResult("dir/k", written{crc32c: bad}, true); err == nil || !strings.Contains(err.Error(), `put "dir/k"`) {
			t.Errorf("malformed %q: %v, want an error naming the object", bad, err)
		}
	}
	if res, err := s.putResult("k", written{etag: `"e"`}, true); err != nil || res.Checksums.HasCRC32C || res.ETag != "e" {
		t.Errorf("a response without a checksum: %+v, %v", res, err)
	}
	// A Put that sent no CRC-32C does not read one: a service's own
	// checksum of a write it was not asked to check proves nothing here.
	if res, err := s.putResult("k", written{etag: `"e"`, crc32c: "!!!!"}, false); err != nil || res.Checksums.HasCRC32C {
		t.Errorf("a checksum not asked for: %+v, %v", res, err)
	}
}
