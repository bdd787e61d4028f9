package s3_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/s3"
	"github.com/ossimport/ossimport/internal/testenv"
)

// faultTransport answers the next failures requests with 503 SlowDown
// itself and passes the others to the real server.
type faultTransport struct {
	mu       sync.Mutex
	failures int
	calls    int
}

func (f *faultTransport) fail(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures, f.calls = n, 0
}

func (f *faultTransport) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func (f *faultTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	f.mu.Lock()
	f.calls++
	failing := f.failures > 0
	if failing {
		f.failures--
	}
	f.mu.Unlock()
	if !failing {
		return http.DefaultTransport.RoundTrip(req)
	}
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	body := `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`
	return &http.Response{
		StatusCode:    http.StatusServiceUnavailable,
		Status:        "503 Service Unavailable",
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"application/xml"}},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}, nil
}

func TestTransientFaults(t *testing.T) {
	srv := testenv.VersityGW(t)
	fault := &faultTransport{}
	cfg := bucketConfig(srv, srv.CreateBucket(t, ""))
	cfg.HTTPClient = &http.Client{Transport: fault}
	st := newStore(t, cfg)
	ctx := t.Context()
	data := randomBytes(100_000)

	fault.fail(1)
	if _, err := st.Put(ctx, "seekable", bytes.NewReader(data), int64(len(data)), storage.Metadata{}); err != nil {
		t.Fatalf("put a seekable body after one 503: %v", err)
	}
	if n := fault.count(); n != 2 {
		t.Errorf("seekable put: %d requests, want 2 (one retry)", n)
	}
	if got := readAll(t, st, "seekable"); !bytes.Equal(got, data) {
		t.Fatalf("retried put stored %d bytes that differ", len(got))
	}

	fault.fail(1)
	_, err := st.Put(ctx, "stream", unseekable{bytes.NewReader(data)}, int64(len(data)), storage.Metadata{})
	if err == nil || !storage.IsTransient(err) || !strings.Contains(err.Error(), "SlowDown") {
		t.Fatalf("put an unseekable body into a 503: %v, want a transient SlowDown error", err)
	}
	if n := fault.count(); n != 1 {
		t.Errorf("unseekable put: %d requests, want 1 (no retry of a body that cannot be rewound)", n)
	}

	fault.fail(1)
	if _, err := st.Stat(ctx, "seekable"); err != nil {
		t.Fatalf("stat after one 503: %v", err)
	}

	fault.fail(1000)
	_, err = st.List(ctx, storage.ListOptions{})
	if !storage.IsTransient(err) || errors.Is(err, storage.ErrAccessDenied) {
		t.Fatalf("list against a failing service: %v, want a transient error", err)
	}
	if n := fault.count(); n < 2 {
		t.Errorf("list against a failing service: %d requests, want SDK retries", n)
	}
	t.Logf("after %d attempts: %v", fault.count(), err)
}

// archiveTransport makes every object look archived, as versitygw keeps
// no storage classes: listings and HEAD say GLACIER (HEAD of a key
// containing "restored" also says the restore is done), and GET answers
// 403 InvalidObjectState.
type archiveTransport struct{}

func (archiveTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodGet && !req.URL.Query().Has("list-type") {
		if req.Body != nil {
			req.Body.Close()
		}
		body := `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidObjectState</Code><Message>The operation is not valid for the object's storage class</Message></Error>`
		return &http.Response{
			StatusCode: http.StatusForbidden, Status: "403 Forbidden", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{"Content-Type": {"application/xml"}}, Body: io.NopCloser(strings.NewReader(body)),
			ContentLength: int64(len(body)), Request: req,
		}, nil
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	switch req.Method {
	case http.MethodHead:
		resp.Header.Set("X-Amz-Storage-Class", "GLACIER")
		if strings.Contains(req.URL.Path, "restored") {
			resp.Header.Set("X-Amz-Restore", `ongoing-request="false", expiry-date="Fri, 21 Dec 2094 00:00:00 GMT"`)
		}
	case http.MethodGet:
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		data = []byte(strings.ReplaceAll(string(data), "<StorageClass>STANDARD</StorageClass>", "<StorageClass>GLACIER</StorageClass>"))
		resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(data)), int64(len(data))
		resp.Header.Del("Content-Length")
	}
	return resp, nil
}

func TestArchivedObjects(t *testing.T) {
	srv := testenv.VersityGW(t)
	cfg := bucketConfig(srv, srv.CreateBucket(t, ""))
	put(t, newStore(t, cfg), "cold", []byte("x"), storage.Metadata{})
	put(t, newStore(t, cfg), "restored", []byte("x"), storage.Metadata{})
	cfg.HTTPClient = &http.Client{Transport: archiveTransport{}}
	st := newStore(t, cfg)
	ctx := t.Context()

	page, err := st.List(ctx, storage.ListOptions{})
	if err != nil || len(page.Objects) != 2 {
		t.Fatalf("list: %+v, %v", page, err)
	}
	for _, o := range page.Objects {
		if o.StorageClass != "GLACIER" || !o.Restore {
			t.Errorf("listed %q: class %q restore %v, want GLACIER and Restore", o.Key, o.StorageClass, o.Restore)
		}
	}
	info, err := st.Stat(ctx, "cold")
	if err != nil || !info.Restore || info.StorageClass != "GLACIER" {
		t.Errorf("stat cold: %+v, %v; want GLACIER and Restore", info, err)
	}
	if info, err := st.Stat(ctx, "restored"); err != nil || info.Restore {
		t.Errorf("stat restored: %+v, %v; want Restore false", info, err)
	}
	_, err = st.Open(ctx, "cold", 0, -1)
	if !errors.Is(err, storage.ErrNeedsRestore) || storage.IsTransient(err) {
		t.Errorf("open cold: %v, want ErrNeedsRestore", err)
	}
}

// TestListPartsPages follows ListParts across pages, served by a fake
// service (versitygw returns up to 1000 parts per page).
func TestListPartsPages(t *testing.T) {
	pages := map[string]string{
		"":  `<Part><PartNumber>1</PartNumber><ETag>"e1"</ETag><Size>5</Size></Part><Part><PartNumber>2</PartNumber><ETag>"e2"</ETag><Size>5</Size></Part><IsTruncated>true</IsTruncated><NextPartNumberMarker>2</NextPartNumberMarker>`,
		"2": `<Part><PartNumber>3</PartNumber><ETag>"e3"</ETag><Size>1</Size></Part><IsTruncated>false</IsTruncated>`,
	}
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page, ok := pages[r.URL.Query().Get("part-number-marker")]
		if !ok || r.URL.Query().Get("uploadId") != "up1" {
			http.Error(w, "unexpected request "+r.URL.String(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><ListPartsResult><Bucket>b</Bucket><Key>k</Key><UploadId>up1</UploadId>`+page+`</ListPartsResult>`)
	}))
	t.Cleanup(fake.Close)
	st := newStore(t, s3.Config{Endpoint: fake.URL, Bucket: "b", AccessKey: "ak", SecretKey: "sk"})
	parts, err := st.ListParts(t.Context(), "k", "up1")
	if err != nil {
		t.Fatal(err)
	}
	want := []storage.Part{{Number: 1, Size: 5, ETag: "e1"}, {Number: 2, Size: 5, ETag: "e2"}, {Number: 3, Size: 1, ETag: "e3"}}
	if fmt.Sprint(parts) != fmt.Sprint(want) {
		t.Fatalf("parts %+v, want %+v", parts, want)
	}
}
