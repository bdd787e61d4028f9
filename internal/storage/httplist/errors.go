package httplist

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/ossimport/ossimport/internal/storage"
)

// statusErr maps an unwanted response status for key (op names the call,
// e.g. "stat") to an error wrapping our sentinel and the transient mark:
//
//	stat "a.jpg": file does not exist: GET http://host/a.jpg: 404 Not Found
func statusErr(op, key string, resp *http.Response) error {
	err := fmt.Errorf("%s %s: %s", resp.Request.Method, safeURL(resp.Request.URL), resp.Status)
	switch code := resp.StatusCode; {
	case code == http.StatusNotFound || code == http.StatusGone:
		return fmt.Errorf("%s %q: %w: %w", op, key, storage.ErrNotExist, err)
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return fmt.Errorf("%s %q: %w: %w (the server refused the URL: check that it is public or still signed)", op, key, storage.ErrAccessDenied, err)
	case storage.TransientHTTPStatus(code) || code >= 500:
		return storage.Transient(fmt.Errorf("%s %q: %w", op, key, err))
	}
	return fmt.Errorf("%s %q: %w", op, key, err)
}

// requestErr wraps an error from sending a request. Whether it is worth
// retrying (a refused or reset connection, a timeout) is left to
// storage.IsTransient.
func requestErr(op, key string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s %q: %w", op, key, err)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		// url.Error prints the whole URL, query string and all.
		if u, perr := url.Parse(ue.URL); perr == nil {
			return fmt.Errorf("%s %q: %s %s: %w", op, key, ue.Op, safeURL(u), ue.Err)
		}
	}
	return fmt.Errorf("%s %q: %w", op, key, err)
}

// safeURL prints u without what may be a credential: the password and the
// query string (signed URLs carry their signature there).
func safeURL(u *url.URL) string {
	c := *u
	if c.RawQuery != "" {
		c.RawQuery = "..."
	}
	c.Fragment, c.RawFragment = "", ""
	return c.Redacted()
}
