package osstest

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash/crc64"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

var crcTable = crc64.MakeTable(crc64.ECMA)

// Limits OSS enforces.
const (
	maxKeyLength  = 1023
	maxPutSize    = 5 << 30 // PutObject and UploadPart
	maxCopySize   = 1 << 30 // CopyObject
	minPartSize   = 100 << 10
	maxPartNumber = 10000
)

// Storage classes.
const (
	classStandard        = "Standard"
	classIA              = "IA"
	classArchive         = "Archive"
	classColdArchive     = "ColdArchive"
	classDeepColdArchive = "DeepColdArchive"
)

var storageClasses = []string{classStandard, classIA, classArchive, classColdArchive, classDeepColdArchive}

type bucket struct {
	name    string
	class   string
	created time.Time
	objects map[string]*object
	uploads map[string]*upload
}

// blob is data stored in a file of the server's directory, with its sums.
type blob struct {
	path string
	size int64
	md5  []byte
	crc  uint64
}

// object is a stored object. Objects are never changed in place: a write
// stores a new object with a new file.
type object struct {
	blob
	etag     string // quoted, as sent in the ETag header
	typ      string // Normal or Multipart
	class    string
	header   http.Header // Content-*, Cache-Control, Expires, x-oss-meta-*, x-oss-server-side-*
	modified time.Time
	restore  string // the x-oss-restore header, "" when never restored
}

// archived reports whether the object must be restored before reading.
func (o *object) archived() bool {
	switch o.class {
	case classArchive, classColdArchive, classDeepColdArchive:
		return !strings.Contains(o.restore, `ongoing-request="false"`)
	}
	return false
}

// md5ETag is the ETag OSS gives a simple object or a part.
func md5ETag(sum []byte) string {
	return `"` + strings.ToUpper(hex.EncodeToString(sum)) + `"`
}

// crcHeader formats a CRC-64 as OSS does, in decimal; wrong reports a
// different value.
func crcHeader(crc uint64, wrong bool) string {
	if wrong {
		crc ^= 0x5a5a
	}
	return strconv.FormatUint(crc, 10)
}

// newFile creates an empty data file.
func (s *Server) newFile(kind string) (*os.File, error) {
	name := fmt.Sprintf("%s-%06d", kind, s.seq.Add(1))
	return os.Create(filepath.Join(s.dir, name))
}

// spool stores body in a new file, hashing it on the way. When want >= 0
// the body must be exactly that long. corrupt flips the first byte, as if
// the data had been damaged before it arrived.
func (s *Server) spool(body io.Reader, want int64, corrupt bool) (blob, *ossError) {
	f, err := s.newFile("data")
	if err != nil {
		return blob{}, errorf(http.StatusInternalServerError, "InternalError", "%v", err)
	}
	defer f.Close()
	if corrupt {
		body = &flipFirst{r: body}
	}
	md, crc := md5.New(), crc64.New(crcTable)
	n, err := io.Copy(io.MultiWriter(f, md, crc), body)
	if err == nil && want >= 0 && n != want {
		err = fmt.Errorf("received %d of %d bytes", n, want)
	}
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return blob{}, errorf(http.StatusBadRequest, "IncompleteBody", "The request body is incomplete: %v", err)
	}
	return blob{path: f.Name(), size: n, md5: md.Sum(nil), crc: crc.Sum64()}, nil
}

// flipFirst inverts the first byte read through it.
type flipFirst struct {
	r    io.Reader
	done bool
}

func (f *flipFirst) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if n > 0 && !f.done {
		p[0] ^= 0xff
		f.done = true
	}
	return n, err
}

// checkContentMD5 compares the Content-MD5 header, when sent, with sum.
func checkContentMD5(h http.Header, sum []byte) *ossError {
	v := h.Get("Content-Md5")
	if v == "" {
		return nil
	}
	want, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(want) != md5.Size {
		return errorf(http.StatusBadRequest, "InvalidDigest", "The Content-MD5 you specified is not valid.")
	}
	if string(want) != string(sum) {
		return errorf(http.StatusBadRequest, "BadDigest", "The Content-MD5 you specified did not match what we received.")
	}
	return nil
}

// lookupBucket returns the bucket; the caller holds s.mu.
func (s *Server) lookupBucket(name string) (*bucket, *ossError) {
	if b, ok := s.buckets[name]; ok {
		return b, nil
	}
	return nil, errNoSuchBucket(name)
}

// lookup returns the object stored under key.
func (s *Server) lookup(bucketName, key string) (*object, *ossError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.lookupBucket(bucketName)
	if err != nil {
		return nil, err
	}
	o, ok := b.objects[key]
	if !ok {
		return nil, errNoSuchKey(key)
	}
	return o, nil
}

// commit stores o under key, replacing (and removing the data of) any
// object there.
func (s *Server) commit(bucketName, key string, o *object) *ossError {
	s.mu.Lock()
	b, err := s.lookupBucket(bucketName)
	var old *object
	if err == nil {
		old = b.objects[key]
		b.objects[key] = o
	}
	s.mu.Unlock()
	if err != nil {
		_ = os.Remove(o.path)
		return err
	}
	if old != nil {
		_ = os.Remove(old.path)
	}
	return nil
}

var bucketNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)

// checkKey applies OSS's object naming rules.
func checkKey(key string) *ossError {
	var why string
	switch {
	case key == "":
		why = "Object name is empty."
	case len(key) > maxKeyLength:
		why = "Object name is longer than 1023 bytes."
	case !utf8.ValidString(key):
		why = "Object name is not valid UTF-8."
	case key[0] == '/' || key[0] == '\\':
		why = `Object name cannot begin with "/" or "\".`
	case strings.ContainsAny(key, "\r\n"):
		why = "Object name cannot contain a carriage return or line feed."
	default:
		return nil
	}
	return errorf(http.StatusBadRequest, "InvalidObjectName", "The specified object is not valid. %s", why)
}

// storedHeaders are the request headers kept with an object and sent back
// on GetObject and HeadObject, besides x-oss-meta-*.
var storedHeaders = []string{"Content-Type", "Cache-Control", "Content-Disposition", "Content-Encoding", "Content-Language", "Expires"}

// objectHeaders picks from a write request the headers stored with the
// object, and its storage class.
func objectHeaders(req http.Header, defaultClass string) (http.Header, string, *ossError) {
	h := http.Header{}
	for _, name := range storedHeaders {
		if v := req.Get(name); v != "" {
			h.Set(name, v)
		}
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/octet-stream")
	}
	for name, vv := range req {
		if strings.HasPrefix(strings.ToLower(name), "x-oss-meta-") {
			h[http.CanonicalHeaderKey(name)] = slices.Clone(vv)
		}
	}
	if err := sseHeaders(req, h); err != nil {
		return nil, "", err
	}
	class := defaultClass
	if v := req.Get("X-Oss-Storage-Class"); v != "" {
		if !slices.Contains(storageClasses, v) {
			return nil, "", errInvalidArgument("x-oss-storage-class", v, "Invalid storage class: %s.", v)
		}
		class = v
	}
	return h, class, nil
}

// sseHeaders validates the server-side encryption a write asks for and
// records it in h.
func sseHeaders(req, h http.Header) *ossError {
	sse := req.Get("X-Oss-Server-Side-Encryption")
	switch sse {
	case "":
		return nil
	case "AES256", "SM4":
		h.Set("X-Oss-Server-Side-Encryption", sse)
	case "KMS":
		h.Set("X-Oss-Server-Side-Encryption", sse)
		id := req.Get("X-Oss-Server-Side-Encryption-Key-Id")
		if id == "" {
			id = "osstest-default-kms-key"
		}
		h.Set("X-Oss-Server-Side-Encryption-Key-Id", id)
	default:
		return errorf(http.StatusBadRequest, "InvalidEncryptionAlgorithmError",
			"The Encryption request you specified is not valid. Supported value: AES256/KMS/SM4")
	}
	return nil
}

// setHeaders writes the headers GetObject and HeadObject return for o.
func (o *object) setHeaders(h http.Header, wrongCRC bool) {
	for name, vv := range o.header {
		h[name] = slices.Clone(vv)
	}
	h.Set("Content-Length", strconv.FormatInt(o.size, 10))
	h.Set("ETag", o.etag)
	h.Set("Last-Modified", o.modified.UTC().Format(http.TimeFormat))
	h.Set("Accept-Ranges", "bytes")
	h.Set("X-Oss-Object-Type", o.typ)
	h.Set("X-Oss-Storage-Class", o.class)
	h.Set("X-Oss-Hash-Crc64ecma", crcHeader(o.crc, wrongCRC))
	if o.typ == "Normal" {
		h.Set("Content-Md5", base64.StdEncoding.EncodeToString(o.md5))
	}
	if o.restore != "" {
		h.Set("X-Oss-Restore", o.restore)
	}
}

// CreateBucket creates an empty bucket; it fails the test if the name is
// not a valid bucket name or is taken.
func (s *Server) CreateBucket(name string) {
	s.t.Helper()
	if !bucketNameRE.MatchString(name) {
		s.t.Fatalf("osstest: invalid bucket name %q", name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.buckets[name]; ok {
		s.t.Fatalf("osstest: bucket %q exists", name)
	}
	s.buckets[name] = newBucket(name, classStandard)
}

func newBucket(name, class string) *bucket {
	return &bucket{name: name, class: class, created: time.Now(), objects: map[string]*object{}, uploads: map[string]*upload{}}
}

// Object returns the data of an object and the headers HeadObject would
// return for it; ok is false when there is no such object.
func (s *Server) Object(bucketName, key string) (data []byte, header http.Header, ok bool) {
	s.t.Helper()
	o, err := s.lookup(bucketName, key)
	if err != nil {
		return nil, nil, false
	}
	data, rerr := os.ReadFile(o.path)
	if rerr != nil {
		s.t.Fatalf("osstest: %v", rerr)
	}
	header = http.Header{}
	o.setHeaders(header, false)
	return data, header, true
}

// Keys lists the keys of a bucket in order.
func (s *Server) Keys(bucketName string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.buckets[bucketName]; ok {
		return slices.Sorted(maps.Keys(b.objects))
	}
	return nil
}

// Uploads counts the multipart uploads in progress in a bucket.
func (s *Server) Uploads(bucketName string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.buckets[bucketName]; ok {
		return len(b.uploads)
	}
	return 0
}

// SetStorageClass changes an object's storage class, as a lifecycle rule
// would; an object moved to an archive class must be restored again.
func (s *Server) SetStorageClass(bucketName, key, class string) {
	s.t.Helper()
	if !slices.Contains(storageClasses, class) {
		s.t.Fatalf("osstest: unknown storage class %q", class)
	}
	if !s.update(bucketName, key, func(o *object) { o.class, o.restore = class, "" }) {
		s.t.Fatalf("osstest: no object %q in bucket %q", key, bucketName)
	}
}

// SetRestored marks an archived object as being restored (done false) or
// restored and readable until a day from now (done true), as after a
// RestoreObject request.
func (s *Server) SetRestored(bucketName, key string, done bool) {
	s.t.Helper()
	if !s.update(bucketName, key, func(o *object) { o.restore = restoreHeader(done) }) {
		s.t.Fatalf("osstest: no object %q in bucket %q", key, bucketName)
	}
}

func restoreHeader(done bool) string {
	if !done {
		return `ongoing-request="true"`
	}
	expiry := time.Now().Add(24 * time.Hour).UTC().Format(http.TimeFormat)
	return `ongoing-request="false", expiry-date="` + expiry + `"`
}

// update replaces an object's record with a changed copy; it reports
// whether the object exists.
func (s *Server) update(bucketName, key string, change func(*object)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.buckets[bucketName]
	if !ok || b.objects[key] == nil {
		return false
	}
	o := *b.objects[key]
	change(&o)
	b.objects[key] = &o
	return true
}

func base64MD5(sum []byte) string { return base64.StdEncoding.EncodeToString(sum) }
