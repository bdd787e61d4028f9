package azure

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"

	"github.com/ossimport/ossimport/internal/storage"
)

// errorClass is what one Azure error code means to us.
type errorClass struct {
	sentinel  error // nil when no sentinel applies
	transient bool  // worth retrying
	hint      bool  // add the credentials hint
}

// errorClasses maps Azure Blob error codes to sentinels. HEAD responses
// carry the code in the x-ms-error-code header, which the SDK reads, so
// Stat gets codes too.
var errorClasses = map[bloberror.Code]errorClass{
	bloberror.BlobNotFound:      {sentinel: storage.ErrNotExist},
	bloberror.ContainerNotFound: {sentinel: storage.ErrBucketNotExist},

	bloberror.AuthenticationFailed:            {sentinel: storage.ErrAccessDenied, hint: true},
	bloberror.InvalidAuthenticationInfo:       {sentinel: storage.ErrAccessDenied, hint: true},
	bloberror.AuthorizationFailure:            {sentinel: storage.ErrAccessDenied, hint: true},
	bloberror.AuthorizationPermissionMismatch: {sentinel: storage.ErrAccessDenied, hint: true},
	bloberror.InsufficientAccountPermissions:  {sentinel: storage.ErrAccessDenied, hint: true},
	bloberror.AccountIsDisabled:               {sentinel: storage.ErrAccessDenied},

	bloberror.BlobArchived:        {sentinel: storage.ErrNeedsRestore},
	bloberror.BlobBeingRehydrated: {sentinel: storage.ErrNeedsRestore},

	bloberror.ServerBusy:            {transient: true},
	bloberror.OperationTimedOut:     {transient: true},
	bloberror.InternalError:         {transient: true},
	bloberror.ContainerBeingDeleted: {sentinel: storage.ErrBucketNotExist},
}

// serviceError is a compact form of *azcore.ResponseError, whose own
// message spans many lines with the whole response body.
type serviceError struct{ err *azcore.ResponseError }

func (e *serviceError) Error() string {
	msg := fmt.Sprintf("azure: %d", e.err.StatusCode)
	if e.err.ErrorCode != "" {
		msg += " " + e.err.ErrorCode
	}
	if resp := e.err.RawResponse; resp != nil && resp.Request != nil {
		u := resp.Request.URL
		msg = fmt.Sprintf("%s %s://%s%s: %s", resp.Request.Method, u.Scheme, u.Host, u.EscapedPath(), msg)
	}
	return msg
}

func (e *serviceError) Unwrap() error { return e.err }

// wrapErr maps err from an Azure call about key (op names the call, e.g.
// "stat") to an error wrapping our sentinel, the transient mark and the
// original error, e.g.
//
//	stat "a.txt": access denied: HEAD https://acct.blob.core.windows.net/c/a.txt: azure: 403 AuthenticationFailed (check ...)
func (s *Store) wrapErr(op, key string, err error) error {
	if err == nil {
		return nil
	}
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("%s %q: %w", op, key, err)
		}
		return fmt.Errorf("%s %q in %s: %w", op, key, s, err)
	}
	class, known := errorClasses[bloberror.Code(re.ErrorCode)]
	if !known {
		class = classifyStatus(re.StatusCode)
	}
	var wrapped error = &serviceError{re}
	if class.hint {
		wrapped = fmt.Errorf("%w (check srcAccessKey, the storage account name %q, and srcSecretKey, its account key)", wrapped, s.account)
	}
	if class.sentinel == storage.ErrBucketNotExist {
		wrapped = fmt.Errorf("%w (check srcBucket, the container name %q, and srcDomain)", wrapped, s.container)
	}
	if class.sentinel != nil {
		wrapped = fmt.Errorf("%w: %w", class.sentinel, wrapped)
	}
	wrapped = fmt.Errorf("%s %q: %w", op, key, wrapped)
	if class.transient {
		return storage.Transient(wrapped)
	}
	return wrapped
}

// classifyStatus maps a status code without a known error code.
func classifyStatus(status int) errorClass {
	switch {
	case status == http.StatusNotFound:
		return errorClass{sentinel: storage.ErrNotExist}
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return errorClass{sentinel: storage.ErrAccessDenied, hint: true}
	case storage.TransientHTTPStatus(status) || status >= 500:
		return errorClass{transient: true}
	}
	return errorClass{}
}
