package osstest

import (
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// putObject stores the request body (PutObject).
func (s *Server) putObject(rq *request) *ossError {
	b, err := s.bucketFor(rq)
	if err != nil {
		return err
	}
	if err := checkKey(rq.key); err != nil {
		return err
	}
	header, class, err := objectHeaders(rq.r.Header, b.class)
	if err != nil {
		return err
	}
	if rq.r.ContentLength > maxPutSize {
		return errorf(http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.")
	}
	if forbidOverwrite(rq) {
		if _, e := s.lookup(rq.bucket, rq.key); e == nil {
			return errorf(http.StatusConflict, "FileAlreadyExists", "The object you specified already exists and can not be overwritten.")
		}
	}
	data, err := s.spool(rq.r.Body, rq.r.ContentLength, rq.fx.corrupt)
	if err != nil {
		return err
	}
	if err := checkContentMD5(rq.r.Header, data.md5); err != nil {
		_ = os.Remove(data.path)
		return err
	}
	o := &object{blob: data, etag: md5ETag(data.md5), typ: "Normal", class: class, header: header, modified: time.Now()}
	if err := s.commit(rq.bucket, rq.key, o); err != nil {
		return err
	}
	h := rq.w.Header()
	h.Set("ETag", o.etag)
	h.Set("Content-Md5", base64MD5(data.md5))
	h.Set("X-Oss-Hash-Crc64ecma", crcHeader(data.crc, rq.fx.wrongCRC))
	copySSE(h, header)
	return okEmpty(rq)
}

func forbidOverwrite(rq *request) bool {
	return strings.EqualFold(rq.r.Header.Get("X-Oss-Forbid-Overwrite"), "true")
}

// bucketFor checks that the request's bucket exists.
func (s *Server) bucketFor(rq *request) (*bucket, *ossError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lookupBucket(rq.bucket)
}

// copySSE repeats the encryption headers of an object in a response.
func copySSE(dst, objectHeader http.Header) {
	for _, name := range []string{"X-Oss-Server-Side-Encryption", "X-Oss-Server-Side-Encryption-Key-Id"} {
		if v := objectHeader.Get(name); v != "" {
			dst.Set(name, v)
		}
	}
}

// headObject returns an object's headers (HeadObject). Archived objects
// can be inspected without being restored.
func (s *Server) headObject(rq *request) *ossError {
	o, err := s.lookup(rq.bucket, rq.key)
	if err != nil {
		return err
	}
	if status := checkConditions(rq.r.Header, "", o); status != 0 {
		return conditionFailed(rq, status, o)
	}
	o.setHeaders(rq.w.Header(), rq.fx.wrongCRC)
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

// getObject sends an object or a range of it (GetObject).
func (s *Server) getObject(rq *request) *ossError {
	o, err := s.lookup(rq.bucket, rq.key)
	if err != nil {
		return err
	}
	if o.archived() {
		return errInvalidObjectState()
	}
	if status := checkConditions(rq.r.Header, "", o); status != 0 {
		return conditionFailed(rq, status, o)
	}
	standard := strings.EqualFold(rq.r.Header.Get("X-Oss-Range-Behavior"), "standard")
	start, end, partial, err := parseRange(rq.r.Header.Get("Range"), o.size, standard)
	if err != nil {
		return err.with("ActualObjectSize", strconv.FormatInt(o.size, 10))
	}
	f, ferr := os.Open(o.path)
	if ferr != nil {
		return errorf(http.StatusInternalServerError, "InternalError", "%v", ferr)
	}
	defer f.Close()
	h := rq.w.Header()
	o.setHeaders(h, rq.fx.wrongCRC)
	status, n := http.StatusOK, o.size
	if partial {
		status, n = http.StatusPartialContent, end-start+1
		h.Del("Content-Md5")
		h.Set("Content-Range", "bytes "+strconv.FormatInt(start, 10)+"-"+strconv.FormatInt(end, 10)+"/"+strconv.FormatInt(o.size, 10))
		h.Set("Content-Length", strconv.FormatInt(n, 10))
		if _, err := f.Seek(start, io.SeekStart); err != nil {
			return errorf(http.StatusInternalServerError, "InternalError", "%v", err)
		}
	}
	if rq.fx.chunked {
		h.Del("Content-Length")
	}
	rq.w.WriteHeader(status)
	if rq.fx.chunked {
		if fl, ok := rq.w.(http.Flusher); ok {
			fl.Flush() // headers out now: the length stays unannounced
		}
	}
	sendBody(rq, f, n)
	return nil
}

// sendBody writes n bytes of r, applying the fault effects.
func sendBody(rq *request, r io.Reader, n int64) {
	var w io.Writer = rq.w
	if rq.fx.corrupt {
		w = &flipWriter{w: w}
	}
	if rq.fx.truncate {
		_, _ = io.CopyN(w, r, n/2)
		if fl, ok := rq.w.(http.Flusher); ok {
			fl.Flush()
		}
		panic(http.ErrAbortHandler)
	}
	_, _ = io.CopyN(w, r, n)
}

// flipWriter inverts the first byte written through it.
type flipWriter struct {
	w    io.Writer
	done bool
}

func (f *flipWriter) Write(p []byte) (int, error) {
	if f.done || len(p) == 0 {
		return f.w.Write(p)
	}
	q := append([]byte(nil), p...)
	q[0] ^= 0xff
	f.done = true
	return f.w.Write(q)
}

// parseRange interprets a Range header for an object of size bytes. A
// missing, malformed or multi-range header means the whole object
// (partial false). A range starting beyond the end is ignored too, unless
// the client asked for standard behaviour (x-oss-range-behavior:
// standard), when it is an InvalidRange error.
func parseRange(v string, size int64, standard bool) (start, end int64, partial bool, err *ossError) {
	spec, ok := strings.CutPrefix(strings.TrimSpace(v), "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return 0, size - 1, false, nil
	}
	first, last, _ := strings.Cut(spec, "-")
	a, errA := strconv.ParseInt(first, 10, 64)
	b, errB := strconv.ParseInt(last, 10, 64)
	switch {
	case first == "" && errB == nil: // bytes=-n: the last n bytes
		if b == 0 || size == 0 {
			return unsatisfiable(size, standard)
		}
		return max(size-b, 0), size - 1, true, nil
	case errA != nil || a < 0 || (last != "" && (errB != nil || b < a)):
		return 0, size - 1, false, nil
	case a >= size:
		return unsatisfiable(size, standard)
	case last == "" || b >= size:
		return a, size - 1, true, nil
	}
	return a, b, true, nil
}

func unsatisfiable(size int64, standard bool) (int64, int64, bool, *ossError) {
	if standard {
		return 0, 0, false, errorf(http.StatusRequestedRangeNotSatisfiable, "InvalidRange", "The requested range cannot be satisfied")
	}
	return 0, size - 1, false, nil
}

// checkConditions evaluates If-Match, If-None-Match, If-Modified-Since and
// If-Unmodified-Since (with prefix "X-Oss-Copy-Source-" for a copy
// source). It returns 0 when the request may proceed, else the status
// to answer: 304 or 412.
func checkConditions(h http.Header, prefix string, o *object) int {
	get := func(name string) string { return h.Get(prefix + name) }
	sameETag := func(v string) bool { return strings.EqualFold(strings.Trim(v, `"`), strings.Trim(o.etag, `"`)) }
	modified := o.modified.Truncate(time.Second)
	if v := get("If-Match"); v != "" && !sameETag(v) {
		return http.StatusPreconditionFailed
	}
	if t, err := http.ParseTime(get("If-Unmodified-Since")); err == nil && modified.After(t) {
		return http.StatusPreconditionFailed
	}
	if v := get("If-None-Match"); v != "" && sameETag(v) {
		return http.StatusNotModified
	}
	if t, err := http.ParseTime(get("If-Modified-Since")); err == nil && !modified.After(t) {
		return http.StatusNotModified
	}
	return 0
}

// conditionFailed answers a failed precondition: 304 without a body, or
// a PreconditionFailed error.
func conditionFailed(rq *request, status int, o *object) *ossError {
	if status == http.StatusNotModified {
		rq.w.Header().Set("ETag", o.etag)
		rq.w.WriteHeader(status)
		return nil
	}
	return errorf(status, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold.")
}

// deleteObject removes an object (DeleteObject); a missing key is fine.
func (s *Server) deleteObject(rq *request) *ossError {
	s.mu.Lock()
	b, err := s.lookupBucket(rq.bucket)
	var old *object
	if err == nil {
		old = b.objects[rq.key]
		delete(b.objects, rq.key)
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	if old != nil {
		_ = os.Remove(old.path)
	}
	return noContent(rq)
}

// parseCopySource splits an x-oss-copy-source header, "/bucket/key" with
// the key URL-escaped, into bucket and key.
func parseCopySource(v string) (bucketName, key string, err *ossError) {
	raw, _, _ := strings.Cut(v, "?") // ?versionId=... is not supported
	path, uerr := url.PathUnescape(raw)
	bucketName, key, ok := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	if uerr != nil || !ok || bucketName == "" || key == "" {
		return "", "", errInvalidArgument("x-oss-copy-source", v, "Copy Source must mention the source bucket and key: /sourcebucket/sourcekey.")
	}
	return bucketName, key, nil
}

// copySource finds the readable source object of a copy request.
func (s *Server) copySource(rq *request) (*object, *ossError) {
	srcBucket, srcKey, err := parseCopySource(rq.r.Header.Get("X-Oss-Copy-Source"))
	if err != nil {
		return nil, err
	}
	src, err := s.lookup(srcBucket, srcKey)
	if err != nil {
		return nil, err
	}
	if src.archived() {
		return nil, errInvalidObjectState()
	}
	if status := checkConditions(rq.r.Header, "X-Oss-Copy-Source-", src); status != 0 {
		return nil, errorf(http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold.")
	}
	return src, nil
}

type copyObjectResult struct {
	XMLName      xml.Name `xml:"CopyObjectResult"`
	ETag         string
	LastModified string
}

// copyObject copies an object of up to 1 GiB (CopyObject). The metadata
// directive COPY (the default) keeps the source's headers, REPLACE takes
// the request's.
func (s *Server) copyObject(rq *request) *ossError {
	b, err := s.bucketFor(rq)
	if err != nil {
		return err
	}
	if err := checkKey(rq.key); err != nil {
		return err
	}
	src, err := s.copySource(rq)
	if err != nil {
		return err
	}
	if src.size > maxCopySize {
		return errorf(http.StatusBadRequest, "EntityTooLarge", "CopyObject only copies objects of up to 1 GB; use UploadPartCopy.")
	}
	header, class, err := copyHeaders(rq.r.Header, src, b.class)
	if err != nil {
		return err
	}
	path, ferr := s.cloneFile(src.path)
	if ferr != nil {
		return errorf(http.StatusInternalServerError, "InternalError", "%v", ferr)
	}
	o := &object{blob: src.blob, etag: src.etag, typ: src.typ, class: class, header: header, modified: time.Now()}
	o.path = path
	if err := s.commit(rq.bucket, rq.key, o); err != nil {
		return err
	}
	rq.w.Header().Set("X-Oss-Hash-Crc64ecma", crcHeader(o.crc, rq.fx.wrongCRC))
	copySSE(rq.w.Header(), header)
	return s.writeXML(rq, copyObjectResult{ETag: o.etag, LastModified: xmlTime(o.modified)})
}

// copyHeaders returns the headers and class of a copy of src.
func copyHeaders(req http.Header, src *object, defaultClass string) (http.Header, string, *ossError) {
	switch d := req.Get("X-Oss-Metadata-Directive"); d {
	case "REPLACE":
		return objectHeaders(req, defaultClass)
	case "", "COPY":
		h := src.header.Clone()
		h.Del("X-Oss-Server-Side-Encryption")
		h.Del("X-Oss-Server-Side-Encryption-Key-Id")
		if err := sseHeaders(req, h); err != nil {
			return nil, "", err
		}
		_, class, err := objectHeaders(req, defaultClass)
		return h, class, err
	default:
		return nil, "", errInvalidArgument("x-oss-metadata-directive", d, "Unknown metadata directive.")
	}
}

// cloneFile makes a new data file with the content of path.
func (s *Server) cloneFile(path string) (string, error) {
	f, err := s.newFile("data")
	if err != nil {
		return "", err
	}
	name := f.Name()
	_ = f.Close()
	_ = os.Remove(name)
	if os.Link(path, name) == nil {
		return name, nil
	}
	src, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer src.Close()
	dst, err := os.Create(name)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(dst, src); err != nil {
		_ = dst.Close()
		return "", err
	}
	return name, dst.Close()
}

// restoreObject starts restoring an archived object (RestoreObject). The
// restore completes when a test calls SetRestored.
func (s *Server) restoreObject(rq *request) *ossError {
	o, err := s.lookup(rq.bucket, rq.key)
	if err != nil {
		return err
	}
	switch {
	case o.class != classArchive && o.class != classColdArchive && o.class != classDeepColdArchive:
		return errorf(http.StatusBadRequest, "OperationNotSupported", "The operation is not supported for this resource")
	case o.restore == restoreHeader(false):
		return errorf(http.StatusConflict, "RestoreAlreadyInProgress", "The restore operation is in progress.")
	case o.restore != "":
		return okEmpty(rq)
	}
	if !s.update(rq.bucket, rq.key, func(o *object) { o.restore = restoreHeader(false) }) {
		return errNoSuchKey(rq.key)
	}
	rq.w.Header().Set("Content-Length", "0")
	rq.w.WriteHeader(http.StatusAccepted)
	return nil
}

// xmlTime formats t as OSS does in XML documents.
func xmlTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
