package youpaitest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// CDN starts a plain HTTP file server for bucket, like a CDN domain bound
// to a UPYUN service: GET /<key> without credentials, with Range. Its
// requests count as KindCDN and obey Fail, SetDelay and
// TruncateDownloads. It returns the server's URL (the cdnDomain).
func (s *Server) CDN(t testing.TB, bucket string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.admit(w, r, KindCDN) {
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		rel := strings.TrimPrefix(r.URL.Path, "/")
		if rel == "" || strings.HasSuffix(rel, "/") || checkPath(rel) != nil {
			http.NotFound(w, r)
			return
		}
		if e := s.serveFile(w, r, bucket, rel, false); e != nil {
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
