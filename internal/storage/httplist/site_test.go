package httplist

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
)

// site is a web server over a temporary directory and a URL list
// naming its files.
type site struct {
	root  string // served directory
	list  string // list file path
	srv   *httptest.Server
	store *Store

	mu     sync.Mutex
	listed map[string]bool
}

// sites finds a test's site from the store the suite hands back.
var sites sync.Map // *Store -> *site

// newSite serves a fresh directory through handler(fileServer), or the
// file server itself when wrap is nil.
func newSite(t *testing.T, wrap ...func(http.Handler) http.Handler) *site {
	t.Helper()
	dir := t.TempDir()
	s := &site{root: filepath.Join(dir, "files"), list: filepath.Join(dir, "http.list"), listed: map[string]bool{}}
	if err := os.Mkdir(s.root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.list, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var h http.Handler = hashedDir(s.root)
	for _, w := range wrap {
		h = w(h)
	}
	s.srv = httptest.NewServer(h)
	t.Cleanup(s.srv.Close)
	st, err := storage.Open(context.Background(), storage.Spec{Type: "http", HTTPListFile: s.list})
	if err != nil {
		t.Fatal(err)
	}
	s.store = st.(*Store)
	sites.Store(s.store, s)
	t.Cleanup(func() { sites.Delete(s.store) })
	return s
}

func siteOf(t *testing.T, st storage.Store) *site {
	t.Helper()
	s, ok := sites.Load(st)
	if !ok {
		t.Fatalf("store %s has no test site", st)
	}
	return s.(*site)
}

// hashedDir serves, with http.ServeContent (the core of http.FileServer:
// HEAD, Range, Last-Modified, conditional requests), the file
// root/sha256(key) for the URL path "/key". So "a" and "a/b" can both be
// files, "folder/" can be one, and names may be longer than a file system
// allows.
type hashedDir string

func (d hashedDir) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := strings.TrimPrefix(r.URL.Path, "/")
	f, err := os.Open(d.path(key))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	http.ServeContent(w, r, key, fi.ModTime(), f)
}

func (d hashedDir) path(key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(string(d), hex.EncodeToString(sum[:]))
}

// put writes the file and lists it (once) as "<server>/  <escaped key>".
func (s *site) put(t *testing.T, key string, data []byte) {
	t.Helper()
	if err := os.WriteFile(hashedDir(s.root).path(key), data, 0o644); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listed[key] {
		return
	}
	s.listed[key] = true
	s.appendList(t, s.srv.URL+"/\t"+escapePath(key)+"\n")
}

// appendList adds text to the list file.
func (s *site) appendList(t *testing.T, text string) {
	t.Helper()
	f, err := os.OpenFile(s.list, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

// escapePath %-encodes each element of a '/'-separated path.
func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, part := range parts {
		parts[i] = url.PathEscape(part)
	}
	return strings.Join(parts, "/")
}
