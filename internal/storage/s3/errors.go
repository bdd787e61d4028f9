package s3

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/ossimport/ossimport/internal/storage"
)

// errorClass is what one S3 error code means to us.
type errorClass struct {
	sentinel  error  // nil when no sentinel applies
	transient bool   // worth retrying
	hint      string // what to check, "" for none; a %q in it is the bucket
}

// errorClasses maps S3 error codes (as the SDK reports them) to sentinels.
var errorClasses = map[string]errorClass{
	"NoSuchKey":     {sentinel: storage.ErrNotExist},
	"NotFound":      {sentinel: storage.ErrNotExist}, // HEAD has no body, so no code but the status
	"NoSuchUpload":  {sentinel: storage.ErrNotExist, hint: "the multipart upload was completed, aborted or expired"},
	"NoSuchVersion": {sentinel: storage.ErrNotExist},
	"NoSuchBucket":  {sentinel: storage.ErrBucketNotExist, hint: "check the bucket name %q and the endpoint"},

	"InvalidAccessKeyId":    {sentinel: storage.ErrAccessDenied, hint: "the service does not know the access key: check the access key"},
	"XAdminUserNotFound":    {sentinel: storage.ErrAccessDenied, hint: "the service does not know the access key: check the access key"}, // versitygw's InvalidAccessKeyId
	"SignatureDoesNotMatch": {sentinel: storage.ErrAccessDenied, hint: "check the secret key"},
	"AccessDenied":          {sentinel: storage.ErrAccessDenied, hint: "check that the key may access bucket %q"},
	"Forbidden":             {sentinel: storage.ErrAccessDenied, hint: "check the keys and that they may access bucket %q"},
	"AllAccessDisabled":     {sentinel: storage.ErrAccessDenied},
	"AccountProblem":        {sentinel: storage.ErrAccessDenied},
	"InvalidToken":          {sentinel: storage.ErrAccessDenied},
	"ExpiredToken":          {sentinel: storage.ErrAccessDenied, hint: "the session token expired"},

	"InvalidObjectState": {sentinel: storage.ErrNeedsRestore, hint: "restore the object (it is archived) and run again"},
	"KeyTooLongError":    {sentinel: storage.ErrInvalidKey},
	"NotImplemented":     {sentinel: storage.ErrNotSupported},

	"XAmzContentSHA256Mismatch": {sentinel: storage.ErrChecksumMismatch, transient: true},
	"BadDigest":                 {sentinel: storage.ErrChecksumMismatch, transient: true},

	"PermanentRedirect":            {hint: "bucket %q is in another region: set the region or use the bucket's regional endpoint"},
	"AuthorizationHeaderMalformed": {hint: "the region is wrong for bucket %q: set the region"},

	"SlowDown":                {transient: true},
	"RequestTimeout":          {transient: true},
	"RequestTimeTooSkewed":    {transient: true},
	"Throttling":              {transient: true},
	"ThrottlingException":     {transient: true},
	"ThrottledException":      {transient: true},
	"RequestThrottled":        {transient: true},
	"RequestLimitExceeded":    {transient: true},
	"TooManyRequests":         {transient: true},
	"InternalError":           {transient: true},
	"ServiceUnavailable":      {transient: true},
	"OperationAborted":        {transient: true},
	"RequestTimeoutException": {transient: true},
}

// wrapErr maps err from an S3 call about key (op names the call, e.g.
// "stat") to an error wrapping our sentinel, the transient mark and the
// original error, naming the bucket and endpoint (the SDK's message names
// neither), e.g.
//
//	stat "a.txt": access denied: SignatureDoesNotMatch: check the secret key: s3://bkt (s3.us-west-2.amazonaws.com): operation error S3: HeadObject, ...
func (s *Store) wrapErr(op, key string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("%s %q: %w", op, key, err)
	}
	code, status := errorCodeStatus(err)
	class, known := errorClasses[code]
	if !known {
		class = classifyStatus(status)
	}
	if !known && status == 0 {
		class.transient = sendFailedTransiently(err)
	}
	if class.sentinel == nil && errors.Is(err, io.ErrUnexpectedEOF) {
		class.transient = true // a response cut short
	}
	hint := ""
	if class.hint != "" {
		hint = class.hint
		if strings.Contains(hint, "%q") {
			hint = fmt.Sprintf(hint, s.cfg.Bucket)
		}
		if code != "" {
			hint = code + ": " + hint
		}
		hint += ": "
	}
	var out error
	if class.sentinel != nil {
		out = fmt.Errorf("%s %q: %w: %s%s: %w", op, key, class.sentinel, hint, s, err)
	} else {
		out = fmt.Errorf("%s %q: %s%s: %w", op, key, hint, s, err)
	}
	if class.transient {
		return storage.Transient(out)
	}
	return out
}

// classifyStatus classifies an error without a known code by its status.
func classifyStatus(status int) errorClass {
	switch {
	case status == 404:
		return errorClass{sentinel: storage.ErrNotExist}
	case status == 403 || status == 401:
		return errorClass{sentinel: storage.ErrAccessDenied, hint: "check the keys and that they may access bucket %q"}
	case status == 501:
		return errorClass{sentinel: storage.ErrNotSupported}
	case storage.TransientHTTPStatus(status) || status >= 500:
		return errorClass{transient: true}
	}
	return errorClass{}
}

// errorCodeStatus returns the S3 error code and HTTP status of err; either
// may be empty or zero.
func errorCodeStatus(err error) (string, int) {
	var code string
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		code = apiErr.ErrorCode()
	}
	var status int
	var respErr *smithyhttp.ResponseError
	if errors.As(err, &respErr) {
		status = respErr.HTTPStatusCode()
	}
	return code, status
}

// sendFailedTransiently reports whether err is a request that failed
// before a response for a reason that may pass: dropped connections and
// the like, but not unknown hosts or certificate problems.
func sendFailedTransiently(err error) bool {
	var sendErr *smithyhttp.RequestSendError
	if !errors.As(err, &sendErr) {
		return false
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return false
	}
	var certErr *tls.CertificateVerificationError
	var authErr x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	return !errors.As(err, &certErr) && !errors.As(err, &authErr) && !errors.As(err, &hostErr)
}
