// Package osstest runs an in-process server that speaks the part of the
// Alibaba Cloud OSS REST API ossimport uses, the way OSS itself answers:
// signed requests (V1 and V4 signatures are verified), OSS XML errors,
// x-oss-* headers, CRC-64/ECMA checksums, multipart upload rules, server-side
// copy and Archive objects that must be restored before they can be read.
//
// Object data lives in a temporary directory, so objects of a few hundred
// MiB cost disk rather than memory. Tests can inject faults (error statuses,
// delays, dropped connections, truncated or corrupted bodies, wrong
// checksums) and count the requests of each operation. BindDomain serves a
// bucket through a custom domain (CNAME addressing, https://<domain>/<key>),
// and Options.SecurityToken makes the key pair temporary (STS), so every
// request must carry its x-oss-security-token.
//
//	srv := osstest.New(t, osstest.Options{AccessKey: "ak", SecretKey: "sk"})
//	srv.CreateBucket("data")
//	srv.Inject(osstest.Fault{Op: "UploadPart", Status: 503, Times: 2})
package osstest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Defaults used when Options leave a field empty.
const (
	DefaultAccessKey = "osstest-access-key-id"
	DefaultSecretKey = "osstest-access-key-secret"
	DefaultRegion    = "cn-hangzhou"
)

// Options configure a Server.
type Options struct {
	AccessKey string // the only access key id the server accepts
	SecretKey string // its secret
	Region    string // the region V4 signatures must be scoped to
	// SecurityToken, when set, makes the key pair temporary (STS): every
	// request must carry this token in x-oss-security-token.
	SecurityToken string
	// Dir holds object data; empty means a directory from t.TempDir.
	Dir string
}

// Server is a running fake OSS endpoint. Its methods are safe for
// concurrent use.
type Server struct {
	// URL is the endpoint, e.g. "http://127.0.0.1:34567". Clients address
	// buckets path-style under it (the OSS SDK does so for IP endpoints),
	// or virtual-host style with a Host header "<bucket>.<domain>".
	URL       string
	Region    string // the region V4 signatures must name
	AccessKey string // the access key id the server accepts
	SecretKey string // and its secret
	// SecurityToken is the STS token requests must carry, "" for none.
	SecurityToken string

	t   testing.TB
	hs  *httptest.Server
	dir string
	seq atomic.Int64

	mu      sync.Mutex
	buckets map[string]*bucket
	cnames  map[string]string // bound domain -> bucket
	faults  []*armedFault
	counts  map[string]int
}

// New starts a server and stops it when the test ends.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{
		Region:        orDefault(opts.Region, DefaultRegion),
		AccessKey:     orDefault(opts.AccessKey, DefaultAccessKey),
		SecretKey:     orDefault(opts.SecretKey, DefaultSecretKey),
		SecurityToken: opts.SecurityToken,
		t:             t,
		dir:           opts.Dir,
		buckets:       map[string]*bucket{},
		counts:        map[string]int{},
	}
	if s.dir == "" {
		s.dir = t.TempDir()
	} else if err := os.MkdirAll(s.dir, 0o755); err != nil {
		t.Fatalf("osstest: %v", err)
	}
	s.hs = httptest.NewServer(s)
	s.URL = s.hs.URL
	t.Cleanup(s.hs.Close)
	return s
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// Count returns how many requests of operation op ("PutObject",
// "UploadPart", "GetObject", ...) the server has received, including
// rejected ones. Count("") is the total over all operations.
func (s *Server) Count(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if op != "" {
		return s.counts[op]
	}
	total := 0
	for _, n := range s.counts {
		total += n
	}
	return total
}

// ResetCounts sets every request counter back to zero.
func (s *Server) ResetCounts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.counts)
}

// request is one request being served.
type request struct {
	w      http.ResponseWriter
	r      *http.Request
	id     string // x-oss-request-id
	bucket string
	key    string
	op     string
	fx     effects // what an injected fault asks the handler to do
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rq := &request{w: w, r: r, id: newRequestID()}
	b, k, bound, refuse := s.cnameTarget(r)
	if bound {
		rq.bucket, rq.key = b, k
	} else {
		rq.bucket, rq.key = splitTarget(r)
	}
	rq.op = operation(r, rq.bucket, rq.key)
	h := w.Header()
	h.Set("Server", "AliyunOSS")
	h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	h.Set("X-Oss-Request-Id", rq.id)
	s.mu.Lock()
	s.counts[rq.op]++
	s.mu.Unlock()
	if rq.bucket != "" && !bucketNameRE.MatchString(rq.bucket) {
		s.fail(rq, errorf(http.StatusBadRequest, "InvalidBucketName", "The specified bucket is not valid.").with("BucketName", rq.bucket))
		return
	}
	if refuse != nil {
		s.fail(rq, refuse)
		return
	}
	if err := s.authenticate(rq); err != nil {
		s.fail(rq, err)
		return
	}
	if err := s.checkToken(rq); err != nil {
		s.fail(rq, err)
		return
	}
	if !s.applyFaults(rq) {
		return
	}
	handler, ok := handlers[rq.op]
	if !ok {
		s.fail(rq, errorf(http.StatusNotImplemented, "NotImplemented", "osstest does not implement %s", rq.op))
		return
	}
	if err := handler(s, rq); err != nil {
		s.fail(rq, err)
	}
}

// handlers maps operation names to their implementation.
var handlers = map[string]func(*Server, *request) *ossError{
	"PutBucket":               (*Server).putBucket,
	"DeleteBucket":            (*Server).deleteBucket,
	"GetBucketInfo":           (*Server).getBucketInfo,
	"GetBucketAcl":            (*Server).getBucketACL,
	"ListObjects":             (*Server).listObjectsV1,
	"ListObjectsV2":           (*Server).listObjectsV2,
	"PutObject":               (*Server).putObject,
	"GetObject":               (*Server).getObject,
	"HeadObject":              (*Server).headObject,
	"DeleteObject":            (*Server).deleteObject,
	"CopyObject":              (*Server).copyObject,
	"RestoreObject":           (*Server).restoreObject,
	"InitiateMultipartUpload": (*Server).initiateMultipart,
	"UploadPart":              (*Server).uploadPart,
	"UploadPartCopy":          (*Server).uploadPartCopy,
	"ListParts":               (*Server).listParts,
	"CompleteMultipartUpload": (*Server).completeMultipart,
	"AbortMultipartUpload":    (*Server).abortMultipart,
	"ListMultipartUploads":    (*Server).listUploads,
}

// splitTarget finds the bucket and key a request addresses. A Host that is
// an IP address, a name without dots or a region endpoint ("oss-...")
// means path style (/bucket/key); any other host name is virtual-host
// style, its first label being the bucket.
func splitTarget(r *http.Request) (bucket, key string) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	path := strings.TrimPrefix(r.URL.Path, "/")
	if net.ParseIP(host) == nil && strings.Contains(host, ".") && !strings.HasPrefix(host, "oss-") {
		bucket, _, _ = strings.Cut(host, ".")
		return bucket, path
	}
	bucket, key, _ = strings.Cut(path, "/")
	return bucket, key
}

// operation names the OSS API operation a request invokes.
func operation(r *http.Request, bucket, key string) string {
	q := r.URL.Query()
	has := func(name string) bool { _, ok := q[name]; return ok }
	switch {
	case bucket == "":
		return "ListBuckets"
	case key == "":
		return bucketOperation(r.Method, q.Get("list-type"), has)
	}
	switch r.Method {
	case http.MethodPut:
		copying := r.Header.Get("X-Oss-Copy-Source") != ""
		switch {
		case has("uploadId") && copying:
			return "UploadPartCopy"
		case has("uploadId"):
			return "UploadPart"
		case copying:
			return "CopyObject"
		case has("acl"), has("tagging"), has("symlink"):
			return "Unsupported" + r.Method
		}
		return "PutObject"
	case http.MethodPost:
		switch {
		case has("uploads"):
			return "InitiateMultipartUpload"
		case has("uploadId"):
			return "CompleteMultipartUpload"
		case has("restore"):
			return "RestoreObject"
		}
		return "AppendObject"
	case http.MethodGet:
		switch {
		case has("uploadId"):
			return "ListParts"
		case has("acl"), has("tagging"), has("symlink"), has("objectMeta"):
			return "Unsupported" + r.Method
		}
		return "GetObject"
	case http.MethodHead:
		return "HeadObject"
	case http.MethodDelete:
		if has("uploadId") {
			return "AbortMultipartUpload"
		}
		return "DeleteObject"
	}
	return "Unsupported" + r.Method
}

func bucketOperation(method, listType string, has func(string) bool) string {
	switch method {
	case http.MethodPut:
		if has("acl") {
			return "PutBucketAcl"
		}
		return "PutBucket"
	case http.MethodDelete:
		return "DeleteBucket"
	case http.MethodGet:
		switch {
		case has("bucketInfo"):
			return "GetBucketInfo"
		case has("acl"):
			return "GetBucketAcl"
		case has("uploads"):
			return "ListMultipartUploads"
		case listType == "2":
			return "ListObjectsV2"
		}
		return "ListObjects"
	}
	return "UnsupportedBucket" + method
}

// newRequestID returns an id shaped like OSS's: 24 upper-case hex digits.
func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// hostID is what OSS puts in <HostId>: the bucket's domain.
func (s *Server) hostID(rq *request) string {
	domain := fmt.Sprintf("oss-%s.aliyuncs.com", s.Region)
	if rq.bucket == "" {
		return domain
	}
	return rq.bucket + "." + domain
}
