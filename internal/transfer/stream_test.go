package transfer

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/storage"
	httplist "github.com/ossimport/ossimport/internal/storage/httplist"
	"github.com/ossimport/ossimport/internal/storage/memory"
)

// TestHTTPSourceIgnoringRange copies an object above the multipart
// threshold from a real net/http server that ignores Range (it answers
// every GET with 200 and the whole body): the copy falls back to one
// sequential stream feeding the multipart upload and succeeds, byte for
// byte, instead of failing on every attempt.
func TestHTTPSourceIgnoringRange(t *testing.T) {
	data := randomBytes(3<<20+12345, 42)
	mtime := time.Unix(1_700_000_000, 0).UTC()
	var gets, ranged atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/files/big.bin" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.Header().Set("Last-Modified", mtime.Format(http.TimeFormat))
		if r.Method == http.MethodHead {
			return
		}
		gets.Add(1)
		if r.Header.Get("Range") != "" {
			ranged.Add(1)
		}
		_, _ = w.Write(data) // Range or not: the whole body, status 200
	}))
	t.Cleanup(srv.Close)
	list := filepath.Join(t.TempDir(), "urls.list")
	if err := os.WriteFile(list, []byte(srv.URL+"/files/ big.bin\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := httplist.New(t.Context(), storage.Spec{Type: "http", HTTPListFile: list})
	if err != nil {
		t.Fatal(err)
	}
	dst := memory.New("dst")
	opts := testOptions()
	opts.Attempts = 1 // the fallback happens within one attempt
	res := newCopier(t, dst, src, opts).Copy(t.Context(), Object{Key: "big.bin", Size: -1})
	if res.Code != Succeed || res.Strategy != "multipart" {
		t.Fatalf("copy = %s via %q (%s), want Succeed via multipart", res.Code, res.Strategy, res.Detail)
	}
	if got := readAll(t, dst, "big.bin"); !bytes.Equal(got, data) {
		t.Fatalf("destination differs from the source (%d vs %d bytes)", len(got), len(data))
	}
	// The ranged attempt stops at the first refused range (about one
	// GET per part in flight; a part dispatched as it fails may add
	// one more each); then one GET streams the whole object.
	if n, most := gets.Load(), int64(2*opts.PartConcurrency+1); n > most {
		t.Errorf("%d GETs (%d with Range), want at most %d", n, ranged.Load(), most)
	}
	t.Logf("%d GETs, %d with Range", gets.Load(), ranged.Load())
}
