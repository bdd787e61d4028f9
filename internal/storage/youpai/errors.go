package youpai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/ossimport/ossimport/internal/storage"
)

// Hints appended to errors the user can fix in job.cfg.
const (
	hintCredentials = "check srcAccessKey (operator) / srcSecretKey (operator password)"
	hintClock       = "check this machine's clock: UPYUN refuses a Date more than 30 minutes off"
	hintBucket      = "check srcBucket (the UPYUN service name)"
	hintCDN         = "check cdnDomain and the CDN's access rules, or set isDownloadFromCdn=false"
)

// UPYUN error codes (API 错误码表) that change how an error is classified.
const (
	codeNeedDate        = 40100001
	codeDateOffset      = 40100002
	codeBucketNotExist  = 40100012
	codeBucketBlocked   = 40100013
	codeBucketRemoved   = 40100014
	codeBadDateValue    = 40100016
	codeBadName         = 40300001
	codePathTooLong     = 40300002
	codeNameTooLong     = 40300003
	codeNotAFile        = 40300015
	codeRequestTooSkewd = 40300028
)

// apiError is one failed UPYUN response.
type apiError struct {
	Status int    // HTTP status
	Code   int64  `json:"code"`
	Msg    string `json:"msg"`
	ID     string `json:"id"`
	Body   string // start of a body that was not the JSON error
	CDN    bool   // the response came from the CDN, not the API
}

func (e *apiError) Error() string {
	var b strings.Builder
	if e.CDN {
		fmt.Fprintf(&b, "cdn: HTTP %d", e.Status)
	} else {
		fmt.Fprintf(&b, "upyun: HTTP %d", e.Status)
	}
	if e.Code != 0 {
		fmt.Fprintf(&b, " code %d", e.Code)
	}
	if e.Msg != "" {
		b.WriteString(" " + e.Msg)
	} else if e.Body != "" {
		b.WriteString(" " + e.Body)
	} else if text := http.StatusText(e.Status); text != "" {
		b.WriteString(" " + strings.ToLower(text))
	}
	if e.ID != "" {
		fmt.Fprintf(&b, " (request id %s)", e.ID)
	}
	return b.String()
}

// readAPIError reads the error body of resp (which the caller closes).
func readAPIError(resp *http.Response, cdn bool) *apiError {
	e := &apiError{Status: resp.StatusCode, CDN: cdn}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<10))
	if json.Unmarshal(body, e) != nil || (e.Code == 0 && e.Msg == "") {
		e.Code, e.Msg, e.ID = 0, "", ""
		text := strings.Join(strings.Fields(string(body)), " ")
		if len(text) > 200 {
			text = text[:200] + "..."
		}
		if !strings.HasPrefix(text, "<") { // keep HTML error pages out
			e.Body = text
		}
	}
	return e
}

// classify maps a failed response to our sentinels: what failed is
// "op key", e.g. `stat "a/b.txt"`.
func classify(op, key string, e *apiError) error {
	what := fmt.Sprintf("%s %q", op, key)
	switch {
	case e.Status == http.StatusNotFound || (e.Status == http.StatusForbidden && e.Code == codeNotAFile):
		return fmt.Errorf("%s: %w: %w", what, storage.ErrNotExist, e)
	case e.Status == http.StatusTooManyRequests || e.Status == http.StatusRequestTimeout || e.Status >= 500:
		return storage.Transient(fmt.Errorf("%s: %w", what, e))
	case e.CDN && (e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden):
		return fmt.Errorf("%s: %w: %w (%s)", what, storage.ErrAccessDenied, e, hintCDN)
	case e.Code == codeBucketNotExist || e.Code == codeBucketRemoved:
		return fmt.Errorf("%s: %w: %w (%s)", what, storage.ErrBucketNotExist, e, hintBucket)
	case e.Code == codeBadName || e.Code == codePathTooLong || e.Code == codeNameTooLong:
		return fmt.Errorf("%s: %w: %w", what, storage.ErrInvalidKey, e)
	case e.Code == codeNeedDate || e.Code == codeDateOffset || e.Code == codeBadDateValue || e.Code == codeRequestTooSkewd:
		return fmt.Errorf("%s: %w: %w (%s)", what, storage.ErrAccessDenied, e, hintClock)
	case e.Code == codeBucketBlocked:
		return fmt.Errorf("%s: %w: %w (%s)", what, storage.ErrAccessDenied, e, hintBucket)
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
		return fmt.Errorf("%s: %w: %w (%s)", what, storage.ErrAccessDenied, e, hintCredentials)
	}
	return fmt.Errorf("%s: %w", what, e)
}

// failure reads and classifies a failed response.
func failure(op, key string, resp *http.Response, cdn bool) error {
	return classify(op, key, readAPIError(resp, cdn))
}

// transportError wraps a failed round trip. Lost connections and
// timeouts are transient; a cancelled context or a host that does not
// resolve is not.
func transportError(op, key string, err error) error {
	wrapped := fmt.Errorf("%s %q: %w", op, key, err)
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return wrapped
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return wrapped
	}
	return storage.Transient(wrapped)
}
