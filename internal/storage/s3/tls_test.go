package s3_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/testenv"
)

// TestHTTPSUnsignedPayload puts bodies through an HTTPS proxy in front of
// the test server: over TLS no body is hashed for the signature.
func TestHTTPSUnsignedPayload(t *testing.T) {
	srv := testenv.VersityGW(t)
	target, err := url.Parse(srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	hashes := map[string]string{} // method and path -> x-amz-content-sha256
	proxy := httputil.NewSingleHostReverseProxy(target)
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			mu.Lock()
			hashes[r.URL.Path] = r.Header.Get("X-Amz-Content-Sha256")
			mu.Unlock()
		}
		proxy.ServeHTTP(w, r) // keeps the Host header the request was signed with
	}))
	t.Cleanup(tlsSrv.Close)

	cfg := bucketConfig(srv, srv.CreateBucket(t, ""))
	cfg.Endpoint = tlsSrv.URL
	cfg.HTTPClient = tlsSrv.Client()
	st := newStore(t, cfg)
	data := randomBytes(200_000)
	if _, err := st.Put(t.Context(), "seekable", bytes.NewReader(data), int64(len(data)), storage.Metadata{}); err != nil {
		t.Fatalf("put over https: %v", err)
	}
	if _, err := st.Put(t.Context(), "stream", unseekable{bytes.NewReader(data)}, int64(len(data)), storage.Metadata{}); err != nil {
		t.Fatalf("put an unseekable body over https: %v", err)
	}
	for _, key := range []string{"seekable", "stream"} {
		if got := readAll(t, st, key); !bytes.Equal(got, data) {
			t.Errorf("%s: read back %d bytes that differ", key, len(got))
		}
		mu.Lock()
		h := hashes["/"+cfg.Bucket+"/"+key]
		mu.Unlock()
		if h != "UNSIGNED-PAYLOAD" {
			t.Errorf("%s: x-amz-content-sha256 %q, want UNSIGNED-PAYLOAD", key, h)
		}
	}
}
