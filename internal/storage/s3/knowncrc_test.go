package s3_test

import (
	"bytes"
	"errors"
	"hash/crc32"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/s3"
	"github.com/ossimport/ossimport/internal/testenv"
)

// knownBody is a caller's body read whole, with its CRC-32C
// (storage.KnownCRC32CBody); it does not seek.
type knownBody struct {
	r   io.Reader
	crc uint32
}

func (b knownBody) Read(p []byte) (int, error) { return b.r.Read(p) }
func (knownBody) CheckedByCaller()             {}
func (b knownBody) KnownCRC32C() uint32        { return b.crc }

func known(data []byte) knownBody {
	return knownBody{r: bytes.NewReader(data), crc: crc32.Checksum(data, castagnoli)}
}

// learningStore is a store on a fresh bucket with LearnCRC32C whose
// requests go through rt.
func learningStore(t *testing.T, srv *testenv.S3Server, rt http.RoundTripper) *s3.Store {
	t.Helper()
	cfg := bucketConfig(srv, srv.CreateBucket(t, ""))
	cfg.LearnCRC32C = true
	cfg.HTTPClient = &http.Client{Transport: rt}
	return newStore(t, cfg)
}

// TestKnownCRC32CLearnsAServiceThatChecks: against a service that checks
// S3 checksums (versitygw), a body read whole goes as a plain PUT with
// its CRC-32C in a header (no aws-chunked encoding, which versitygw would
// keep on the object), first through the SDK and then directly; the
// answer's CRC-32C settles KnownCRC32C to Yes; a wrong CRC-32C is
// refused (BadDigest: a checksum mismatch, sent again) and stores
// nothing.
func TestKnownCRC32CLearnsAServiceThatChecks(t *testing.T) {
	srv := testenv.VersityGW(t)
	tt := &trailerTransport{}
	st := learningStore(t, srv, tt)
	ctx := t.Context()
	if got := st.Capabilities().KnownCRC32C; got != storage.Unknown {
		t.Fatalf("KnownCRC32C before any write: %s, want unknown", got)
	}
	for i, tc := range []struct {
		size int
		by   string
	}{{1000, "sdk"}, {64 << 10, "direct"}, {1, "direct"}} {
		data := randomBytes(tc.size)
		key := "known/" + tc.by + strings.Repeat("+", i)
		res, err := st.Put(ctx, key, known(data), int64(len(data)), storage.Metadata{ContentType: "text/plain"})
		if err != nil {
			t.Fatalf("put %d bytes: %v", tc.size, err)
		}
		sent := tt.last(t)
		if sent.by != tc.by || !sent.hasChecksum || sent.encoding != "" || tc.by == "direct" && sent.payload != "UNSIGNED-PAYLOAD" {
			t.Errorf("put %d bytes: sent %+v, want a plain PUT %s with the checksum header", tc.size, sent, tc.by)
		}
		wantCRC(t, key, res.Checksums, data)
		if got := st.Capabilities().KnownCRC32C; got != storage.Yes {
			t.Errorf("after put %d: KnownCRC32C %s, want yes", i, got)
		}
		if got := readAll(t, st, key); !bytes.Equal(got, data) {
			t.Errorf("put %d bytes: read back %d bytes that differ", tc.size, len(got))
		}
		if info, err := st.Stat(ctx, key); err != nil || info.Meta.ContentEncoding != "" || info.Meta.ContentType != "text/plain" {
			t.Errorf("put %d bytes: stat %+v, %v; want no Content-Encoding", tc.size, info.Meta, err)
		}
	}
	data := randomBytes(5000)
	bad := known(data)
	bad.crc ^= 1
	_, err := st.Put(ctx, "known/bad", bad, int64(len(data)), storage.Metadata{})
	if !errors.Is(err, storage.ErrChecksumMismatch) || !storage.IsTransient(err) {
		t.Errorf("put with a wrong CRC-32C: %v, want a transient checksum mismatch", err)
	}
	if _, err := st.Stat(ctx, "known/bad"); !errors.Is(err, storage.ErrNotExist) {
		t.Errorf("after a refused put, stat: %v", err)
	}
	if got := st.Capabilities().KnownCRC32C; got != storage.Yes {
		t.Errorf("after a BadDigest: KnownCRC32C %s, want yes", got)
	}
}

// oldService plays a service that does not know S3 checksums in front
// of versitygw: it ignores the checksum header (strips it, and every
// checksum from the answer), or refuses it outright (400).
type oldService struct {
	refuse int // the status of a refusal; 0: ignores the header
	tt     trailerTransport
}

func (o *oldService) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPut && req.Header.Get("X-Amz-Checksum-Crc32c") != "" && o.refuse != 0 {
		o.tt.record(req) // not sent on: the answer is ours
		if req.Body != nil {
			req.Body.Close()
		}
		body := "<Error><Code>InvalidArgument</Code><Message>unknown header</Message></Error>"
		if o.refuse == 403 {
			body = "<Error><Code>SignatureDoesNotMatch</Code><Message>header dropped by a proxy</Message></Error>"
		}
		return &http.Response{StatusCode: o.refuse, Status: http.StatusText(o.refuse), Header: http.Header{"Content-Type": {"application/xml"}},
			Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: req}, nil
	}
	// The signature covers the header: a server that ignores it still
	// checks the signature it is part of, so it is left on the request
	// and only the answer loses its checksums.
	resp, err := o.tt.RoundTrip(req)
	if err == nil {
		for k := range resp.Header {
			if strings.HasPrefix(strings.ToLower(k), "x-amz-checksum-") {
				resp.Header.Del(k)
			}
		}
	}
	return resp, err
}

// TestKnownCRC32CLearnsAnOldService: a service that ignores the checksum
// header (no CRC-32C in its answer) or refuses it (400, or 403 when
// something dropped the signed header on the way) settles KnownCRC32C to
// No; a refused write fails transiently (the caller sends it again), and
// the next write of a body read whole carries no header.
func TestKnownCRC32CLearnsAnOldService(t *testing.T) {
	srv := testenv.VersityGW(t)
	for _, refuse := range []int{0, 400, 403} {
		name := map[int]string{0: "ignores", 400: "refuses", 403: "signature fails"}[refuse]
		t.Run(name, func(t *testing.T) {
			o := &oldService{refuse: refuse}
			st := learningStore(t, srv, o)
			ctx := t.Context()
			data := randomBytes(3000)
			res, err := st.Put(ctx, "first", known(data), int64(len(data)), storage.Metadata{})
			if (refuse != 0) != (err != nil) || err != nil && !storage.IsTransient(err) {
				t.Fatalf("first put: %v (refused with %d: want a transient error exactly then)", err, refuse)
			}
			if first := o.tt.last(t); !first.hasChecksum {
				t.Errorf("first put sent %+v, want the checksum header", first)
			}
			if res.Checksums.HasCRC32C {
				t.Errorf("first put returned a CRC-32C from a service that gives none: %+v", res.Checksums)
			}
			if got := st.Capabilities().KnownCRC32C; got != storage.No {
				t.Fatalf("KnownCRC32C after the first answer: %s, want no", got)
			}
			for _, key := range []string{"first", "second"} {
				if _, err := st.Put(ctx, key, known(data), int64(len(data)), storage.Metadata{}); err != nil {
					t.Fatalf("put %s: %v", key, err)
				}
				if sent := o.tt.last(t); sent.hasChecksum {
					t.Errorf("put %s sent %+v, want no checksum header", key, sent)
				}
				if got := readAll(t, st, key); !bytes.Equal(got, data) {
					t.Errorf("put %s: read back differs", key)
				}
			}
		})
	}
}

// TestLearnCRC32CFromDestChecksum: destChecksum=auto learns where it does
// not already send every CRC-32C (Amazon S3 over HTTPS); md5 and crc32c
// never learn.
func TestLearnCRC32CFromDestChecksum(t *testing.T) {
	for _, tc := range []struct {
		checksum, endpoint string
		trailing, learn    bool
	}{
		{"auto", "http://127.0.0.1:7070", false, true},
		{"", "https://minio.example.com", false, true},
		{"auto", "https://s3.us-west-2.amazonaws.com", true, false},
		{"auto", "", true, false},
		{"md5", "http://127.0.0.1:7070", false, false},
		{"crc32c", "http://127.0.0.1:7070", true, false},
	} {
		cfg := s3.ConfigFromSpec(storage.Spec{Checksum: tc.checksum, Endpoint: tc.endpoint, Bucket: "b"})
		if cfg.TrailingCRC32C != tc.trailing || cfg.LearnCRC32C != tc.learn {
			t.Errorf("destChecksum=%q endpoint %q: trailing %t learn %t, want %t %t", tc.checksum, tc.endpoint,
				cfg.TrailingCRC32C, cfg.LearnCRC32C, tc.trailing, tc.learn)
		}
	}
}
