package osstest

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
)

// ossError is an error response: an HTTP status and an OSS error code.
type ossError struct {
	status int
	code   string
	msg    string
	// extra elements OSS adds for some codes (Key, BucketName,
	// StringToSign, ...), in order.
	extra [][2]string
}

func (e *ossError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.code, e.msg) }

func errorf(status int, code, format string, args ...any) *ossError {
	return &ossError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

func (e *ossError) with(name, value string) *ossError {
	e.extra = append(e.extra, [2]string{name, value})
	return e
}

// The errors OSS returns most, with its wording.
func errNoSuchBucket(bucket string) *ossError {
	return errorf(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist.").with("BucketName", bucket)
}

func errNoSuchKey(key string) *ossError {
	return errorf(http.StatusNotFound, "NoSuchKey", "The specified key does not exist.").with("Key", key)
}

func errNoSuchUpload(id string) *ossError {
	return errorf(http.StatusNotFound, "NoSuchUpload",
		"The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.").
		with("UploadId", id)
}

func errInvalidArgument(name, value, format string, args ...any) *ossError {
	return errorf(http.StatusBadRequest, "InvalidArgument", format, args...).
		with("ArgumentName", name).with("ArgumentValue", value)
}

func errInvalidObjectState() *ossError {
	return errorf(http.StatusForbidden, "InvalidObjectState", "The operation is not valid for the object's state")
}

// errorBody is the XML document OSS sends with an error.
func (s *Server) errorBody(rq *request, e *ossError) []byte {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString("<Error>\n")
	element := func(name, value string) {
		b.WriteString("  <" + name + ">")
		_ = xml.EscapeText(&b, []byte(value))
		b.WriteString("</" + name + ">\n")
	}
	element("Code", e.code)
	element("Message", e.msg)
	element("RequestId", rq.id)
	element("HostId", s.hostID(rq))
	for _, kv := range e.extra {
		element(kv[0], kv[1])
	}
	b.WriteString("</Error>\n")
	return b.Bytes()
}

// fail sends e. Responses to HEAD carry no body, so OSS puts the error
// document base64-encoded in the x-oss-err header instead.
func (s *Server) fail(rq *request, e *ossError) {
	drain(rq.r)
	body := s.errorBody(rq, e)
	h := rq.w.Header()
	for _, name := range []string{"ETag", "Last-Modified", "Content-Range", "X-Oss-Hash-Crc64ecma", "Content-Md5"} {
		h.Del(name)
	}
	h.Set("Content-Type", "application/xml")
	if rq.r.Method == http.MethodHead {
		h.Set("X-Oss-Err", base64.StdEncoding.EncodeToString(body))
		h.Set("Content-Length", "0")
		rq.w.WriteHeader(e.status)
		return
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	rq.w.WriteHeader(e.status)
	_, _ = rq.w.Write(body)
}

// drain reads what is left of a request body before an early answer, so
// the client is not cut off while still sending and sees the response.
func drain(r *http.Request) {
	if r.Body != nil {
		_, _ = io.CopyN(io.Discard, r.Body, 1<<30)
	}
}

// writeXML sends v as an XML document with status 200.
func (s *Server) writeXML(rq *request, v any) *ossError {
	body, err := xml.MarshalIndent(v, "", "  ")
	if err != nil {
		return errorf(http.StatusInternalServerError, "InternalError", "encode response: %v", err)
	}
	h := rq.w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", fmt.Sprint(len(xml.Header)+len(body)))
	rq.w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(rq.w, xml.Header)
	_, _ = rq.w.Write(body)
	return nil
}

// noContent answers 204 with no body.
func noContent(rq *request) *ossError {
	rq.w.Header().Set("Content-Length", "0")
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

// okEmpty answers 200 with no body.
func okEmpty(rq *request) *ossError {
	rq.w.Header().Set("Content-Length", "0")
	rq.w.WriteHeader(http.StatusOK)
	return nil
}
