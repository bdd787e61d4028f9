package config

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// Workers is the content of conf/workers: the machines of a distributed
// deployment, one per line. The first one also runs the master.
type Workers struct {
	File  string
	Hosts []WorkerHost
}

// WorkerHost is one line of conf/workers.
type WorkerHost struct {
	// Host is an IPv4 or IPv6 address (without brackets) or a host name.
	Host string
	// Port overrides sshPort for this host; 0 means use sshPort.
	Port int
	// Line is the 1-based line the host was read from.
	Line int
}

// Addr returns host:port for dialling SSH, using defaultPort when the line
// gave none.
func (h WorkerHost) Addr(defaultPort int) string {
	p := h.Port
	if p == 0 {
		p = defaultPort
	}
	return net.JoinHostPort(h.Host, strconv.Itoa(p))
}

// Master returns the first host, which runs the master, and false when the
// list is empty.
func (w *Workers) Master() (WorkerHost, bool) {
	if w == nil || len(w.Hosts) == 0 {
		return WorkerHost{}, false
	}
	return w.Hosts[0], true
}

// LoadWorkers reads and checks the workers file at path. The error is
// non-nil only when the file cannot be read.
func LoadWorkers(path string) (*Workers, Diagnostics, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read workers file %s: %w", path, err)
	}
	w, diags := ParseWorkers(path, data)
	return w, diags, nil
}

// ParseWorkers decodes a workers file: one host per line as an IPv4
// address, an IPv6 address (bare, or in brackets as "[v6]" or "[v6]:port"),
// or a host name, optionally followed by ":port". "#" starts a comment;
// blank lines are ignored. The same host and port twice is an error.
func ParseWorkers(name string, data []byte) (*Workers, Diagnostics) {
	w := &Workers{File: name}
	var diags Diagnostics
	seen := map[string]int{}
	buf := []byte(normalizeText(data))
	diags = append(diags, checkUTF8(name, buf)...)
	text := string(buf)
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		n := i + 1
		if c := strings.IndexByte(line, '#'); c >= 0 {
			line = line[:c]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		h, err := parseWorkerHost(line)
		if err != nil {
			diags = append(diags, Diagnostic{File: name, Line: n, Msg: fmt.Sprintf("worker %q %v", line, err)})
			continue
		}
		h.Line = n
		id := h.Addr(0)
		if prev, dup := seen[id]; dup {
			diags = append(diags, Diagnostic{File: name, Line: n,
				Msg: fmt.Sprintf("worker %q is already listed on line %d (delete one of the lines)", line, prev)})
			continue
		}
		seen[id] = n
		w.Hosts = append(w.Hosts, h)
	}
	if len(w.Hosts) == 0 && len(diags) == 0 {
		diags = append(diags, Diagnostic{File: name,
			Msg: "no worker hosts listed (write one address per line; the first one runs the master)"})
	}
	return w, diags
}

// parseWorkerHost parses one non-empty, comment-free workers line.
func parseWorkerHost(s string) (WorkerHost, error) {
	if strings.ContainsAny(s, " \t") {
		return WorkerHost{}, fmt.Errorf("must hold a single host (write one host per line)")
	}
	if strings.HasPrefix(s, "[") {
		return parseBracketed(s)
	}
	if strings.Count(s, ":") > 1 {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is6() {
			return WorkerHost{}, fmt.Errorf("is not a valid IPv6 address (write [address]:port to add a port)")
		}
		return WorkerHost{Host: a.String()}, nil
	}
	host, port, _ := strings.Cut(s, ":")
	h := WorkerHost{Host: host}
	if a, err := netip.ParseAddr(host); err == nil {
		h.Host = a.String()
	} else if err := validHostname(host); err != nil {
		return WorkerHost{}, fmt.Errorf("is not an IP address or valid host name: %v", err)
	} else {
		h.Host = strings.ToLower(strings.TrimSuffix(host, "."))
	}
	return withPort(h, port, strings.Contains(s, ":"))
}

func parseBracketed(s string) (WorkerHost, error) {
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return WorkerHost{}, fmt.Errorf("has no closing ']'")
	}
	a, err := netip.ParseAddr(s[1:end])
	if err != nil || !a.Is6() {
		return WorkerHost{}, fmt.Errorf("has no valid IPv6 address between brackets")
	}
	rest := s[end+1:]
	if rest != "" && !strings.HasPrefix(rest, ":") {
		return WorkerHost{}, fmt.Errorf("has text after ']' (write [address]:port)")
	}
	return withPort(WorkerHost{Host: a.String()}, strings.TrimPrefix(rest, ":"), rest != "")
}

func withPort(h WorkerHost, port string, given bool) (WorkerHost, error) {
	if !given {
		return h, nil
	}
	if err := checkPort(port); err != nil {
		return WorkerHost{}, err
	}
	h.Port, _ = strconv.Atoi(port)
	return h, nil
}
