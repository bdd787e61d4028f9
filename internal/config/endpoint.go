package config

import (
	"errors"
	"net"
	"net/netip"
	"net/url"
	"strings"
)

// hasScheme reports whether s starts with a URL scheme such as "http://".
func hasScheme(s string) bool {
	i := strings.Index(s, "://")
	return i > 0 && !strings.ContainsAny(s[:i], "/.:")
}

// EndpointURL returns endpoint as a URL: a bare host name ("oss-cn-hangzhou.aliyuncs.com"
// or "127.0.0.1:9000") gets the https scheme; anything with a scheme is
// returned unchanged.
func EndpointURL(endpoint string) string {
	if endpoint == "" || hasScheme(endpoint) {
		return endpoint
	}
	return "https://" + endpoint
}

// UsePathStyle decides whether requests to endpoint address the bucket in
// the path (http://host/bucket/key) rather than in the host name. setting
// is the srcUsePathStyle / destUsePathStyle value: "true" and "false" are
// obeyed; anything else ("auto") selects path style when the endpoint host
// is an IP address or "localhost", where virtual-host names cannot resolve.
func UsePathStyle(endpoint, setting string) bool {
	switch setting {
	case "true":
		return true
	case "false":
		return false
	}
	host := endpointHost(endpoint)
	if strings.EqualFold(host, "localhost") {
		return true
	}
	_, err := netip.ParseAddr(host)
	return err == nil
}

// endpointHost returns the host part of an endpoint, without port or
// brackets, or "" when it cannot be parsed.
func endpointHost(endpoint string) string {
	u, err := url.Parse(EndpointURL(endpoint))
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// checkEndpoint validates an endpoint written as a URL or bare host. It
// returns a warning text for a suspicious but usable endpoint.
func checkEndpoint(endpoint string) (warning string, err error) {
	u, err := url.Parse(EndpointURL(endpoint))
	if err != nil {
		return "", errors.New("is not a valid URL (write it like http://oss-cn-hangzhou.aliyuncs.com)")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", errors.New("must start with http:// or https://")
	case u.User != nil:
		return "", errors.New("must not contain a user name or password (use the access key settings)")
	case u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(endpoint, "?"):
		return "", errors.New("must not contain a query or fragment")
	case validHost(u.Hostname()) != nil:
		return "", errors.New("has an invalid host name")
	}
	if p := u.Port(); p != "" {
		if err := checkPort(p); err != nil {
			return "", err
		}
	}
	if u.Path != "" && u.Path != "/" {
		return "has a path, which is unusual for an endpoint (write only scheme and host)", nil
	}
	return "", nil
}

// validHost accepts an IP address or an RFC 1123 host name.
func validHost(h string) error {
	if h == "" {
		return errors.New("empty host")
	}
	if _, err := netip.ParseAddr(h); err == nil {
		return nil
	}
	return validHostname(h)
}

// validHostname checks an RFC 1123 host name: dot-separated labels of 1 to
// 63 letters, digits and hyphens, not starting or ending with a hyphen, at
// most 253 characters. A name made only of digits and dots must be a valid
// IPv4 address instead.
func validHostname(h string) error {
	name := strings.TrimSuffix(h, ".")
	if name == "" || len(name) > 253 {
		return errors.New("host name must be 1 to 253 characters")
	}
	allNumeric := true
	for label := range strings.SplitSeq(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return errors.New("invalid host name label")
		}
		for _, c := range []byte(label) {
			switch {
			case c >= '0' && c <= '9':
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '-':
				allNumeric = false
			default:
				return errors.New("host names may only contain letters, digits, '-' and '.'")
			}
		}
	}
	if allNumeric {
		return errors.New("not a valid IPv4 address")
	}
	return nil
}

// checkPort validates a decimal TCP port 1-65535.
func checkPort(p string) error {
	n := 0
	for _, c := range []byte(p) {
		if c < '0' || c > '9' || n > 65535 {
			return errors.New("has an invalid port (use 1 to 65535)")
		}
		n = n*10 + int(c-'0')
	}
	if p == "" || n < 1 || n > 65535 {
		return errors.New("has an invalid port (use 1 to 65535)")
	}
	return nil
}

// checkListenAddr validates a host:port listen address; the host may be
// empty (all interfaces) and the port 0 (any free port).
func checkListenAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return errors.New("is not a host:port address (write e.g. 127.0.0.1:8086)")
	}
	if host != "" {
		if err := validHost(host); err != nil {
			return errors.New("has an invalid host")
		}
	}
	if port != "0" {
		return checkPort(port)
	}
	return nil
}
