// Package youpaitest runs a UPYUN USS REST API on loopback for tests: the
// subset the youpai source uses, in UPYUN's dialect, plus what tests need
// around it (uploads, fault injection, request counters and a CDN-style
// plain file server).
//
// What it implements, following UPYUN's REST API documentation:
//
//   - Authentication: "Authorization: UPYUN <operator>:<signature>" with
//     signature = Base64(HMAC-SHA1(hex MD5 of the password,
//     Method&URI&Date[&Content-MD5])), URI being the request URI exactly as
//     sent; or HTTP Basic with the operator and password. Date must be
//     within MaxSkew (30 minutes) of the server's clock. Failures answer
//     401 with UPYUN's JSON error body {"msg","code","id"} and codes
//     40100001 (need date header), 40100002 (date offset error), 40100003
//     (unknown realm), 40100004 (need authorization header), 40100005
//     (signature error), 40100006 (user not exists), 40100016 (invalid
//     date value). An unknown bucket answers 401 40100012.
//   - GET /<bucket>/<folder>[/]: one page of the folder, X-List-Limit
//     (default 100, at most 10000), X-List-Iter, X-List-Order (asc or desc
//     by modification time; ties in a fixed order that is not the names'
//     byte order). The next cursor is in the x-upyun-list-iter header and,
//     as JSON (Accept: application/json), in {"files":[{"name","type",
//     "length","last_modified"}],"iter"}, type being "folder" or the
//     file's MIME type; without JSON the body is "name\tN|F\tsize\tmtime"
//     lines. The last page's cursor is g2gCZAAEbmV4dGQAA2VvZg. Cursors
//     are opaque, but made by this server: ExpireIters makes it refuse
//     every cursor handed out before, with 400 code 40000000 (how real
//     UPYUN refuses an outdated cursor is not documented).
//   - HEAD answers x-upyun-file-type (file or folder), x-upyun-file-size,
//     x-upyun-file-date (Unix seconds), Content-Type, Content-MD5 (hex),
//     ETag and the x-upyun-meta-* headers; GET downloads, with Range.
//   - PUT stores a file; it needs Content-Length (chunked bodies get 400
//     40000011), checks a hex Content-MD5 (400 40000006) and creates the
//     missing parent folders; a path through an existing file, or onto a
//     folder, gets 406 40600001. POST with "folder: true" creates a folder.
//     DELETE removes a file or an empty folder (403 40300005 otherwise).
//
// Files are kept in a temporary directory, one sub-directory per bucket,
// so folders are real directories; metadata is kept in memory.
package youpaitest

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// EndIter is the cursor of a folder's last page.
const EndIter = "g2gCZAAEbmV4dGQAA2VvZg"

// Request kinds, for Count and Fail.
const (
	KindList   = "list"   // GET of a folder
	KindGet    = "get"    // GET of a file
	KindHead   = "head"   // HEAD
	KindPut    = "put"    // PUT
	KindMkdir  = "mkdir"  // POST folder: true
	KindDelete = "delete" // DELETE
	KindCDN    = "cdn"    // any request to a CDN server
)

// Server is a UPYUN REST API endpoint.
type Server struct {
	URL      string // http://127.0.0.1:port, the srcDomain to use
	Operator string
	Password string

	srv  *httptest.Server
	root string // temp dir: buckets/<name>/..., tmp/

	mu       sync.Mutex
	buckets  map[string]bool
	meta     map[string]*fileMeta // by bucket + "/" + path
	epoch    int                  // cursor generation, see ExpireIters
	faults   []*fault
	delay    time.Duration
	truncate int // file downloads still to cut short
	maxSkew  time.Duration
	clock    time.Duration // added to time.Now, see SetClockOffset
	counts   map[string]int
}

// fileMeta is what the server knows about a file or folder besides its
// bytes.
type fileMeta struct {
	contentType string
	md5         string // hex
	mtime       time.Time
	user        http.Header // X-Upyun-Meta-* headers
}

// fault makes the next remaining requests of some kinds fail.
type fault struct {
	status    int
	remaining int
	kinds     []string // empty: every kind
}

// New starts a server; it is closed when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		Operator: "ossimport-operator",
		Password: "pw-" + randomHex(8),
		root:     t.TempDir(),
		buckets:  map[string]bool{},
		meta:     map[string]*fileMeta{},
		maxSkew:  30 * time.Minute,
		counts:   map[string]int{},
	}
	for _, d := range []string{"buckets", "tmp"} {
		if err := os.MkdirAll(filepath.Join(s.root, d), 0o755); err != nil {
			t.Fatalf("youpaitest: %v", err)
		}
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveAPI))
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// CreateBucket adds an empty bucket (UPYUN service).
func (s *Server) CreateBucket(t testing.TB, name string) {
	t.Helper()
	if !bucketName.MatchString(name) {
		t.Fatalf("youpaitest: bad bucket name %q", name)
	}
	if err := os.MkdirAll(filepath.Join(s.root, "buckets", name), 0o755); err != nil {
		t.Fatalf("youpaitest: %v", err)
	}
	s.mu.Lock()
	s.buckets[name] = true
	s.mu.Unlock()
}

// Fail makes the next n requests of the given kinds (all kinds when none
// is given) answer status with UPYUN's error body: 429 "too many
// requests", 503 "unknown error" and so on.
func (s *Server) Fail(status, n int, kinds ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{status: status, remaining: n, kinds: kinds})
}

// SetDelay makes every later request wait d before it is answered.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// TruncateDownloads makes the next n file downloads (API or CDN) send
// only half the bytes their Content-Length announces, then drop the
// connection.
func (s *Server) TruncateDownloads(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.truncate += n
}

// ExpireIters makes the server refuse every list cursor it handed out so
// far.
func (s *Server) ExpireIters() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.epoch++
}

// SetClockOffset moves the server's clock, to test Date checks.
func (s *Server) SetClockOffset(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clock = d
}

// Count returns how many requests of kind arrived ("requests": all of
// them; "fault": answered by Fail; "denied": refused by authentication;
// "iter-refused": list cursors refused after ExpireIters).
func (s *Server) Count(kind string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[kind]
}

// ResetCounts sets every counter to zero.
func (s *Server) ResetCounts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts = map[string]int{}
}

func (s *Server) now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Now().Add(s.clock)
}

// apiError is UPYUN's JSON error body.
type apiError struct {
	status int
	Msg    string `json:"msg"`
	Code   int    `json:"code"`
	ID     string `json:"id"`
}

func errorf(status, code int, msg string) *apiError {
	return &apiError{status: status, Code: code, Msg: msg}
}

func (e *apiError) write(w http.ResponseWriter) {
	e.ID = randomHex(16)
	body, _ := json.Marshal(e)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Request-Id", e.ID)
	w.WriteHeader(e.status)
	_, _ = w.Write(body)
}

// faultFor takes one failure for a request of kind, or returns nil.
func (s *Server) faultFor(kind string) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.faults {
		if f.remaining <= 0 || (len(f.kinds) > 0 && !contains(f.kinds, kind)) {
			continue
		}
		f.remaining--
		s.counts["fault"]++
		switch {
		case f.status == http.StatusTooManyRequests:
			return errorf(f.status, 42900001, "too many requests")
		case f.status == http.StatusServiceUnavailable:
			return errorf(f.status, 50300000, "unknown error")
		}
		return errorf(f.status, f.status*100000, strings.ToLower(http.StatusText(f.status)))
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// admit counts a request, waits the configured delay and applies faults.
// It reports whether the request may go on.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, kind string) bool {
	s.mu.Lock()
	s.counts["requests"]++
	s.counts[kind]++
	delay := s.delay
	s.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return false
		}
	}
	if e := s.faultFor(kind); e != nil {
		e.write(w)
		return false
	}
	return true
}

// authenticate checks the Date and Authorization headers.
func (s *Server) authenticate(r *http.Request) *apiError {
	date := r.Header.Get("Date")
	if date == "" {
		return errorf(401, 40100001, "need date header")
	}
	when, err := http.ParseTime(date)
	if err != nil {
		return errorf(401, 40100016, "invalid date value in header")
	}
	if d := s.now().Sub(when); d > s.skew() || d < -s.skew() {
		return errorf(401, 40100002, "date offset error")
	}
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return errorf(401, 40100004, "need authorization header")
	}
	if user, pass, ok := r.BasicAuth(); ok {
		if user != s.Operator {
			return errorf(401, 40100006, "user not exists")
		}
		if pass != s.Password {
			return errorf(401, 40100009, "user password error")
		}
		return nil
	}
	scheme, cred, _ := strings.Cut(auth, " ")
	if !strings.EqualFold(scheme, "UPYUN") {
		return errorf(401, 40100003, "unknown realm in authorization header")
	}
	operator, signature, _ := strings.Cut(cred, ":")
	if operator != s.Operator {
		return errorf(401, 40100006, "user not exists")
	}
	want := Sign(s.Password, r.Method, r.RequestURI, date, r.Header.Get("Content-MD5"))
	if !hmac.Equal([]byte(signature), []byte(want)) {
		return errorf(401, 40100005, "signature error")
	}
	return nil
}

func (s *Server) skew() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxSkew
}

// Sign computes UPYUN's request signature for the operator password
// (not yet hashed) and the parts of a request; contentMD5 may be empty.
func Sign(password, method, uri, date, contentMD5 string) string {
	key := md5.Sum([]byte(password))
	parts := []string{method, uri, date}
	if contentMD5 != "" {
		parts = append(parts, contentMD5)
	}
	mac := hmac.New(sha1.New, []byte(hex.EncodeToString(key[:])))
	mac.Write([]byte(strings.Join(parts, "&")))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// serveAPI routes one REST API request.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	bucket, rel, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	kind := s.kindOf(r, bucket, rel)
	if !s.admit(w, r, kind) {
		return
	}
	if e := s.authenticate(r); e != nil {
		s.mu.Lock()
		s.counts["denied"]++
		s.mu.Unlock()
		e.write(w)
		return
	}
	s.mu.Lock()
	known := s.buckets[bucket]
	s.mu.Unlock()
	if !known {
		errorf(401, 40100012, "bucket not exist").write(w)
		return
	}
	if e := checkPath(rel); e != nil {
		e.write(w)
		return
	}
	var e *apiError
	switch kind {
	case KindList:
		e = s.list(w, r, bucket, rel)
	case KindGet, KindHead:
		e = s.download(w, r, bucket, rel, kind == KindHead)
	case KindPut:
		e = s.put(w, r, bucket, rel)
	case KindMkdir:
		e = s.mkdir(bucket, rel, r)
	case KindDelete:
		e = s.remove(bucket, rel)
	default:
		e = errorf(http.StatusMethodNotAllowed, 40500000, "method not allowed")
	}
	if e != nil {
		e.write(w)
	}
}

// kindOf names the operation a request asks for.
func (s *Server) kindOf(r *http.Request, bucket, rel string) string {
	switch r.Method {
	case http.MethodGet:
		if rel == "" || strings.HasSuffix(rel, "/") {
			return KindList
		}
		if !bucketName.MatchString(bucket) || checkPath(rel) != nil {
			return KindGet
		}
		if fi, err := os.Stat(s.fsPath(bucket, rel)); err == nil && fi.IsDir() {
			return KindList
		}
		return KindGet
	case http.MethodHead:
		return KindHead
	case http.MethodPut:
		return KindPut
	case http.MethodPost:
		return KindMkdir
	case http.MethodDelete:
		return KindDelete
	}
	return strings.ToLower(r.Method)
}

// checkPath refuses names UPYUN refuses and names this server cannot
// keep in its directory tree.
func checkPath(rel string) *apiError {
	if rel == "" {
		return nil
	}
	if len(rel) > 1024 {
		return errorf(403, 40300002, "file path too long")
	}
	for seg := range strings.SplitSeq(strings.TrimSuffix(rel, "/"), "/") {
		switch {
		case strings.ContainsAny(seg, "\r\n\t"):
			return errorf(403, 40300001, "file name contains invalid chars (\\r\\n\\t)")
		case len(seg) > 255:
			return errorf(403, 40300003, "file name too long")
		case seg == "" || seg == "." || seg == "..":
			return errorf(400, 40000015, fmt.Sprintf("bad path element %q", seg))
		}
	}
	return nil
}

// fsPath is where bucket/rel lives on disk.
func (s *Server) fsPath(bucket, rel string) string {
	return filepath.Join(s.root, "buckets", bucket, filepath.FromSlash(strings.TrimSuffix(rel, "/")))
}

func metaKey(bucket, rel string) string { return bucket + "/" + strings.TrimSuffix(rel, "/") }
