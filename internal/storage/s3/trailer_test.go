package s3_test

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/s3"
	"github.com/ossimport/ossimport/internal/testenv"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// sentPut is what trailerTransport saw of one PUT.
type sentPut struct {
	by          string // "direct" or "sdk"
	payload     string // X-Amz-Content-Sha256
	encoding    string // Content-Encoding
	expect      string
	part        bool // an UploadPart
	length      int64
	hasChecksum bool // an x-amz-checksum-crc32c header or trailer
}

// trailerTransport records every PUT it passes on.
type trailerTransport struct {
	mu   sync.Mutex
	puts []sentPut
}

func (tt *trailerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	tt.record(req)
	return http.DefaultTransport.RoundTrip(req)
}

// record notes req when it is a PUT.
func (tt *trailerTransport) record(req *http.Request) {
	if req.Method == http.MethodPut {
		by := "sdk"
		if req.Header.Get("User-Agent") == directUA {
			by = "direct"
		}
		p := sentPut{by: by, payload: req.Header.Get("X-Amz-Content-Sha256"), encoding: req.Header.Get("Content-Encoding"),
			expect: req.Header.Get("Expect"), part: req.URL.Query().Has("partNumber"), length: req.ContentLength,
			hasChecksum: req.Header.Get("X-Amz-Trailer") == "x-amz-checksum-crc32c" || req.Header.Get("X-Amz-Checksum-Crc32c") != ""}
		tt.mu.Lock()
		tt.puts = append(tt.puts, p)
		tt.mu.Unlock()
	}
}

func (tt *trailerTransport) last(t *testing.T) sentPut {
	t.Helper()
	tt.mu.Lock()
	defer tt.mu.Unlock()
	if len(tt.puts) == 0 {
		t.Fatal("no PUT was sent")
	}
	return tt.puts[len(tt.puts)-1]
}

// crcStore is a store on a fresh bucket with TrailingCRC32C whose PUTs
// tt records.
func crcStore(t *testing.T, srv *testenv.S3Server, tt *trailerTransport) *s3.Store {
	t.Helper()
	cfg := bucketConfig(srv, srv.CreateBucket(t, ""))
	cfg.TrailingCRC32C = true
	cfg.HTTPClient = &http.Client{Transport: tt}
	return newStore(t, cfg)
}

// wantCRC fails unless sums carries the CRC-32C of data.
func wantCRC(t *testing.T, what string, sums storage.Checksums, data []byte) {
	t.Helper()
	if want := crc32.Checksum(data, castagnoli); !sums.HasCRC32C || sums.CRC32C != want {
		t.Errorf("%s: CRC-32C %08x (known %v), want %08x", what, sums.CRC32C, sums.HasCRC32C, want)
	}
}

// TestTrailerPut: with TrailingCRC32C, a streamed body of any size goes
// aws-chunked with its CRC-32C in a trailer (the first through the SDK,
// the store's first object request, the next directly), the object reads
// back byte for byte, and the result carries the service's CRC-32C.
func TestTrailerPut(t *testing.T) {
	srv := testenv.VersityGW(t)
	tt := &trailerTransport{}
	st := crcStore(t, srv, tt)
	ctx := t.Context()
	cases := []struct {
		name   string
		size   int
		by     string
		expect string
	}{
		{"first write, 1 KiB", 1 << 10, "sdk", ""},
		{"1 KiB", 1 << 10, "direct", ""},
		{"one byte", 1, "direct", ""},
		{"one chunk", 64 << 10, "direct", ""},
		{"chunk boundary", 3 * 64 << 10, "direct", ""},
		{"chunk boundary plus one", 3*64<<10 + 1, "direct", ""},
		{"above directPutMax", 2<<20 + 12345, "direct", "100-continue"},
		{"several MiB", 3*(2<<20) + 7, "direct", "100-continue"},
	}
	for i, tc := range cases {
		key := "trailer/ü a+b%c;d=e/" + tc.name // keys needing escapes
		data := randomBytes(tc.size + i%2)
		if i%2 == 1 {
			data = data[:tc.size]
		}
		meta := storage.Metadata{ContentType: "application/x-test", User: map[string]string{"case": tc.name}}
		res, err := st.Put(ctx, key, unseekable{bytes.NewReader(data)}, int64(len(data)), meta)
		if err != nil {
			t.Fatalf("%s: put: %v", tc.name, err)
		}
		sent := tt.last(t)
		if sent.by != tc.by || sent.payload != "STREAMING-UNSIGNED-PAYLOAD-TRAILER" || !sent.hasChecksum ||
			!strings.HasPrefix(sent.encoding, "aws-chunked") || sent.expect != tc.expect {
			t.Errorf("%s: sent %+v, want a trailer %s with Expect %q", tc.name, sent, tc.by, tc.expect)
		}
		wantCRC(t, tc.name, res.Checksums, data)
		if got := readAll(t, st, key); !bytes.Equal(got, data) {
			t.Errorf("%s: read back %d bytes that differ from the %d put", tc.name, len(got), len(data))
		}
		info, err := st.Stat(ctx, key)
		if err != nil || info.Size != int64(len(data)) || info.Meta.User["case"] != tc.name || info.Meta.ContentType != meta.ContentType {
			t.Errorf("%s: stat %+v, %v", tc.name, info, err)
		}
	}
}

// TestTrailerShortBody: a streamed body shorter than announced fails and
// stores nothing.
func TestTrailerShortBody(t *testing.T) {
	srv := testenv.VersityGW(t)
	tt := &trailerTransport{}
	st := crcStore(t, srv, tt)
	ctx := t.Context()
	for i, size := range []int{1000, 200_000} { // through the SDK, then directly
		data := randomBytes(size)
		_, err := st.Put(ctx, "short", unseekable{bytes.NewReader(data[:size/2])}, int64(size), storage.Metadata{})
		if err == nil {
			t.Fatalf("put %d: a short body succeeded", i)
		}
		if _, err := st.Stat(ctx, "short"); !errors.Is(err, storage.ErrNotExist) {
			t.Errorf("put %d: after a short body, stat: %v", i, err)
		}
	}
}

// TestTrailerSeekable: with TrailingCRC32C, the SDK sends a seekable
// body's CRC-32C (a header over plain HTTP), and the result carries it.
func TestTrailerSeekable(t *testing.T) {
	srv := testenv.VersityGW(t)
	tt := &trailerTransport{}
	st := crcStore(t, srv, tt)
	ctx := t.Context()
	for _, size := range []int{1, 1000, 3<<20 + 5} {
		data := randomBytes(size)
		res, err := st.Put(ctx, "seekable", bytes.NewReader(data), int64(size), storage.Metadata{})
		if err != nil {
			t.Fatalf("put %d bytes: %v", size, err)
		}
		if sent := tt.last(t); sent.by != "sdk" || !sent.hasChecksum {
			t.Errorf("put %d bytes: sent %+v, want the SDK with a checksum", size, sent)
		}
		wantCRC(t, "seekable put", res.Checksums, data)
		if got := readAll(t, st, "seekable"); !bytes.Equal(got, data) {
			t.Errorf("put %d bytes: read back %d that differ", size, len(got))
		}
	}
}

// TestTrailerEmpty: an empty object has a CRC-32C too (zero).
func TestTrailerEmpty(t *testing.T) {
	srv := testenv.VersityGW(t)
	st := crcStore(t, srv, &trailerTransport{})
	for _, r := range []io.Reader{unseekable{strings.NewReader("")}, bytes.NewReader(nil)} {
		res, err := st.Put(t.Context(), "empty", r, 0, storage.Metadata{})
		if err != nil {
			t.Fatal(err)
		}
		wantCRC(t, "empty put", res.Checksums, nil)
	}
}

// TestTrailerMultipart: parts sent with a trailer and seekable parts
// mixed in one upload each return their CRC-32C, the upload completes and
// reads back byte for byte. ListParts reports the parts' CRC-32Cs where
// the service keeps them: versitygw only does for an upload created with
// a checksum algorithm (CreateMultipart declares none), so the second
// upload is created with one through the SDK (and aborted).
func TestTrailerMultipart(t *testing.T) {
	srv := testenv.VersityGW(t)
	tt := &trailerTransport{}
	st := crcStore(t, srv, tt)
	ctx := t.Context()
	data := randomBytes(3*s3.MinPartSize + 4321)
	chunks := [][]byte{data[:s3.MinPartSize], data[s3.MinPartSize : 2*s3.MinPartSize], data[2*s3.MinPartSize : 3*s3.MinPartSize], data[3*s3.MinPartSize:]}
	for _, declared := range []bool{false, true} {
		key := fmt.Sprintf("mp/mixed parts+%v.bin", declared)
		id := createUpload(t, srv, st, key, declared)
		var parts []storage.Part
		for i, c := range chunks {
			var r io.Reader = unseekable{bytes.NewReader(c)}
			seekable := i == 2
			if seekable {
				r = bytes.NewReader(c)
			}
			p, err := st.UploadPart(ctx, key, id, i+1, r, int64(len(c)))
			if err != nil {
				t.Fatalf("declared %v: upload part %d: %v", declared, i+1, err)
			}
			sent := tt.last(t)
			if trailer := sent.payload == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"; !sent.part || !sent.hasChecksum || trailer == seekable {
				t.Errorf("declared %v: part %d: sent %+v", declared, i+1, sent)
			}
			wantCRC(t, "uploaded part", p.Checksums, c)
			parts = append(parts, p)
		}
		listed, err := st.ListParts(ctx, key, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(listed) != len(chunks) {
			t.Fatalf("declared %v: listed %d parts, want %d", declared, len(listed), len(chunks))
		}
		for i, p := range listed {
			if declared || p.Checksums.HasCRC32C {
				wantCRC(t, fmt.Sprintf("declared %v: listed part %d", declared, i+1), p.Checksums, chunks[i])
			}
		}
		if declared {
			// Completing it would need the part checksums, which
			// CompleteMultipart (for uploads it created) does not send.
			if err := st.AbortMultipart(ctx, key, id); err != nil {
				t.Fatal(err)
			}
			continue
		}
		slices.Reverse(parts) // Complete sorts them
		if _, err := st.CompleteMultipart(ctx, key, id, parts); err != nil {
			t.Fatalf("declared %v: complete: %v", declared, err)
		}
		if got := readAll(t, st, key); !bytes.Equal(got, data) {
			t.Fatalf("declared %v: read back %d bytes that differ from the %d uploaded", declared, len(got), len(data))
		}
	}
}

// createUpload starts a multipart upload of key: with the store's
// CreateMultipart, or declaring CRC-32C through the SDK.
func createUpload(t *testing.T, srv *testenv.S3Server, st *s3.Store, key string, declareCRC32C bool) string {
	t.Helper()
	if !declareCRC32C {
		id, err := st.CreateMultipart(t.Context(), key, storage.Metadata{})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	client := awss3.New(awss3.Options{
		Region:       srv.Region,
		BaseEndpoint: aws.String(srv.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(srv.AccessKey, srv.SecretKey, ""),
	})
	out, err := client.CreateMultipartUpload(t.Context(), &awss3.CreateMultipartUploadInput{
		Bucket: aws.String(strings.TrimPrefix(strings.Fields(st.String())[0], "s3://")), Key: aws.String(key),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c,
	})
	if err != nil {
		t.Fatalf("create an upload declaring CRC-32C: %v", err)
	}
	return aws.ToString(out.UploadId)
}

// TestTrailerBadDigest: a wrong trailing CRC-32C makes the service refuse
// the write (BadDigest): the error wraps storage.ErrChecksumMismatch, is
// transient, and nothing is stored; through the SDK (the first write) and
// directly.
func TestTrailerBadDigest(t *testing.T) {
	srv := testenv.VersityGW(t)
	tt := &trailerTransport{}
	st := crcStore(t, srv, tt)
	s3.SetFlipCRC32C(st, 1)
	ctx := t.Context()
	for i, size := range []int{1000, 1000, 3 << 20} {
		data := randomBytes(size)
		_, err := st.Put(ctx, "bad", unseekable{bytes.NewReader(data)}, int64(size), storage.Metadata{})
		if !errors.Is(err, storage.ErrChecksumMismatch) || !storage.IsTransient(err) {
			t.Errorf("put %d (%s): %v, want a transient ErrChecksumMismatch", i+1, tt.last(t).by, err)
		}
		if _, err := st.Stat(ctx, "bad"); !errors.Is(err, storage.ErrNotExist) {
			t.Errorf("put %d: stat after BadDigest: %v, want ErrNotExist", i+1, err)
		}
	}
	id, err := st.CreateMultipart(ctx, "bad-mp", storage.Metadata{})
	if err != nil {
		t.Fatal(err)
	}
	data := randomBytes(s3.MinPartSize)
	_, err = st.UploadPart(ctx, "bad-mp", id, 1, unseekable{bytes.NewReader(data)}, int64(len(data)))
	if !errors.Is(err, storage.ErrChecksumMismatch) || !storage.IsTransient(err) {
		t.Errorf("upload part: %v, want a transient ErrChecksumMismatch", err)
	}
	if parts, err := st.ListParts(ctx, "bad-mp", id); err != nil || len(parts) != 0 {
		t.Errorf("list parts after BadDigest: %+v, %v; want none", parts, err)
	}
}

// TestConfigFromSpecChecksum: destChecksum crc32c and md5 decide;
// auto (or nothing) picks crc32c for Amazon S3 over HTTPS only; and
// Capabilities.CRC32C says what was picked.
func TestConfigFromSpecChecksum(t *testing.T) {
	endpoints := []struct {
		name, endpoint string
		auto           bool
	}{
		{"empty (AWS)", "", true},
		{"AWS https", "https://s3.us-west-2.amazonaws.com", true},
		{"AWS without scheme", "s3.eu-west-1.amazonaws.com", true},
		{"AWS China https", "https://s3.cn-north-1.amazonaws.com.cn", true},
		{"AWS http", "http://s3.us-west-2.amazonaws.com", false},
		{"custom https", "https://cos.ap-guangzhou.myqcloud.com", false},
		{"custom http", "http://127.0.0.1:7070", false},
		{"look-alike", "https://s3.amazonaws.com.example.org", false},
	}
	for _, e := range endpoints {
		for checksum, want := range map[string]bool{"crc32c": true, "CRC32C": true, "md5": false, "auto": e.auto, "": e.auto} {
			spec := storage.Spec{Type: "s3", Endpoint: e.endpoint, Bucket: "b", Checksum: checksum, AccessKey: "ak", SecretKey: "sk"}
			cfg := s3.ConfigFromSpec(spec)
			if cfg.TrailingCRC32C != want {
				t.Errorf("%s, destChecksum %q: TrailingCRC32C %v, want %v", e.name, checksum, cfg.TrailingCRC32C, want)
			}
			st, err := s3.New(t.Context(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if st.Capabilities().CRC32C != want {
				t.Errorf("%s, destChecksum %q: Capabilities.CRC32C %v, want %v", e.name, checksum, st.Capabilities().CRC32C, want)
			}
		}
	}
}
