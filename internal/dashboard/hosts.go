package dashboard

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
)

// HostGuard returns next behind a check of the Host header: only the
// names this server answers to get through, so that a page of another
// site whose name was rebound to this machine's address (DNS rebinding)
// cannot read the dashboard or /metrics through the visitor's browser.
//
// Served are: IP literals (a rebinding page always uses its own name),
// "localhost" and names under ".localhost", the host of listen (the
// listen address, host:port), this machine's host name, and allowed
// (httpAllowedHosts; "*.example.com" matches every name under
// example.com). Ports and letter case are ignored. Any other Host is
// answered 421 Misdirected Request with what to configure.
func HostGuard(listen string, allowed []string, next http.Handler) http.Handler {
	hosts := newHostSet(listen, allowed)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !hosts.serves(r.Host) {
			writeError(w, http.StatusMisdirectedRequest, fmt.Sprintf(
				"this server does not answer to the name %q: browse it by IP address or localhost, or add the name to httpAllowedHosts in sys.properties",
				clip(r.Host, 100)))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// hostSet is what HostGuard lets through.
type hostSet struct {
	exact    map[string]bool
	suffixes []string // ".example.com" for "*.example.com"
}

func newHostSet(listen string, allowed []string) *hostSet {
	h := &hostSet{exact: map[string]bool{"localhost": true}}
	if host, _, err := net.SplitHostPort(listen); err == nil && host != "" {
		h.exact[normalHost(host)] = true
	}
	if name, err := os.Hostname(); err == nil && name != "" {
		h.exact[normalHost(name)] = true
	}
	for _, a := range allowed {
		a = strings.TrimSpace(a)
		if host, _, err := net.SplitHostPort(a); err == nil {
			a = host // a port given with the name is not part of it
		}
		a = normalHost(a)
		switch {
		case a == "":
		case strings.HasPrefix(a, "*."):
			h.suffixes = append(h.suffixes, a[1:])
		default:
			h.exact[a] = true
		}
	}
	return h
}

// serves reports whether hostport (a Host header) names this server.
func (h *hostSet) serves(hostport string) bool {
	host := hostport
	if hp, _, err := net.SplitHostPort(hostport); err == nil {
		host = hp
	}
	host = normalHost(host)
	switch {
	case host == "":
		return false // HTTP/1.1 requires Host; an empty one names nothing
	case net.ParseIP(host) != nil:
		return true
	case h.exact[host] || strings.HasSuffix(host, ".localhost"):
		return true
	}
	for _, s := range h.suffixes {
		if strings.HasSuffix(host, s) && len(host) > len(s) {
			return true
		}
	}
	return false
}

// normalHost lower-cases a host name and drops IPv6 brackets, a zone
// and a trailing dot.
func normalHost(host string) string {
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if i := strings.IndexByte(host, '%'); i >= 0 && net.ParseIP(host[:i]) != nil {
		host = host[:i]
	}
	return host
}
