package osstest

import (
	"fmt"
	"net/http"
	"time"
)

// Fault describes a failure to inject into matching requests. Faults are
// checked after authentication, in the order they were injected; the
// first one that matches and has uses left applies.
type Fault struct {
	// Op is the operation to affect ("PutObject", "UploadPart",
	// "GetObject", "HeadObject", "CompleteMultipartUpload", ...); empty
	// matches every operation.
	Op string
	// Bucket and Key restrict the fault to one bucket or object; empty
	// matches any.
	Bucket string
	Key    string
	// Times is how many requests the fault affects: 0 means once, a
	// negative value means every matching request.
	Times int

	// Delay holds the request this long before anything else happens
	// (a client timeout shorter than Delay sees a timeout).
	Delay time.Duration
	// Status, when set, answers with this HTTP status and an OSS error
	// (Code, or the usual code for the status) without doing anything.
	Status int
	Code   string
	// Drop closes the connection without an answer.
	Drop bool
	// TruncateBody (GetObject) sends the headers for the whole body,
	// half of the body, then drops the connection.
	TruncateBody bool
	// WrongCRC reports an x-oss-hash-crc64ecma that differs from the
	// object's (or part's) real CRC-64.
	WrongCRC bool
	// CorruptBody flips one byte: of the body sent (GetObject) or of the
	// data received and stored (PutObject, UploadPart), whose reported
	// CRC-64 and ETag are then those of the corrupted data, as when a
	// request is damaged in transit.
	CorruptBody bool
	// Chunked (GetObject) sends the body with chunked transfer encoding
	// and no Content-Length, as proxies and some OSS front ends do.
	Chunked bool
}

// armedFault is an injected fault and the uses it has left.
type armedFault struct {
	Fault
	left int // < 0: unlimited
}

// effects are what a fault asks a handler to do.
type effects struct {
	truncate bool
	wrongCRC bool
	corrupt  bool
	chunked  bool
}

// Inject arms f.
func (s *Server) Inject(f Fault) {
	left := f.Times
	if left == 0 {
		left = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &armedFault{Fault: f, left: left})
}

// ClearFaults disarms every injected fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// takeFault returns the fault that applies to rq, using it up once.
func (s *Server) takeFault(rq *request) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if (f.Op != "" && f.Op != rq.op) || (f.Bucket != "" && f.Bucket != rq.bucket) || (f.Key != "" && f.Key != rq.key) {
			continue
		}
		if f.left > 0 {
			f.left--
			if f.left == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		return f.Fault, true
	}
	return Fault{}, false
}

// applyFaults carries out the fault that applies to rq, if any. It
// reports whether the request should still be handled.
func (s *Server) applyFaults(rq *request) bool {
	f, ok := s.takeFault(rq)
	if !ok {
		return true
	}
	if f.Delay > 0 {
		select {
		case <-time.After(f.Delay):
		case <-rq.r.Context().Done():
			return false
		}
	}
	switch {
	case f.Drop:
		panic(http.ErrAbortHandler)
	case f.Status != 0:
		code := f.Code
		if code == "" {
			code = codeForStatus(f.Status)
		}
		s.fail(rq, errorf(f.Status, code, "injected fault: %d %s", f.Status, code))
		return false
	}
	rq.fx = effects{truncate: f.TruncateBody, wrongCRC: f.WrongCRC, corrupt: f.CorruptBody, chunked: f.Chunked}
	return true
}

// codeForStatus is the error code OSS usually sends with status.
func codeForStatus(status int) string {
	switch status {
	case http.StatusInternalServerError:
		return "InternalError"
	case http.StatusServiceUnavailable:
		return "ServiceUnavailable"
	case http.StatusTooManyRequests:
		return "TooManyRequests"
	case http.StatusForbidden:
		return "AccessDenied"
	case http.StatusNotFound:
		return "NoSuchKey"
	case http.StatusRequestTimeout:
		return "RequestTimeout"
	}
	if status >= 500 {
		return "InternalError"
	}
	return fmt.Sprintf("Status%d", status)
}
