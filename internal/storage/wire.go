// Helpers for the backends that speak HTTP.

package storage

import (
	"strconv"
	"strings"
)

// RangeHeader returns the HTTP Range header value asking for length bytes
// from offset (length < 0: to the end), or "" when the whole object is
// wanted (offset 0, length < 0). A zero length cannot be asked for with a
// Range header: backends answer it without reading.
func RangeHeader(offset, length int64) string {
	if offset == 0 && length < 0 {
		return ""
	}
	r := "bytes=" + strconv.FormatInt(offset, 10) + "-"
	if length > 0 {
		r += strconv.FormatInt(offset+length-1, 10)
	}
	return r
}

// ParseContentRange parses a Content-Range header value, "bytes
// first-last/total" or "bytes */total"; each number is -1 when absent,
// "*" or malformed.
func ParseContentRange(v string) (first, last, total int64) {
	first, last, total = -1, -1, -1
	spec, ok := strings.CutPrefix(strings.TrimSpace(v), "bytes ")
	if !ok {
		return
	}
	rng, size, ok := strings.Cut(spec, "/")
	if !ok {
		return
	}
	if n, err := strconv.ParseInt(size, 10, 64); err == nil && n >= 0 {
		total = n
	}
	a, b, ok := strings.Cut(rng, "-")
	if !ok {
		return
	}
	fa, errA := strconv.ParseInt(a, 10, 64)
	lb, errB := strconv.ParseInt(b, 10, 64)
	if errA == nil && errB == nil && fa >= 0 && lb >= fa {
		first, last = fa, lb
	}
	return
}

// EscapePath percent-encodes every byte of p but the unreserved
// characters of RFC 3986 (letters, digits, "-", "_", ".", "~") and "/",
// so a key goes into a URL path, or an S3 x-amz-copy-source, exactly as
// it is signed.
func EscapePath(p string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(p))
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '/' || c == '-' || c == '_' || c == '.' || c == '~' ||
			('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}
