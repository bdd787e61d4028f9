package dashboard

import (
	"net/http"
	"os"
	"strings"
	"testing"
)

// TestHostGuard: the dashboard answers the names it serves (IP
// literals, loopback names, the listen host, the machine's name and
// httpAllowedHosts, with or without a port, in any case) and refuses
// every other Host with 421 and what to configure, before reaching the
// API.
func TestHostGuard(t *testing.T) {
	dir := fixture(t)
	h, _, _ := newTest(t, dir, "", func(o *Options) {
		o.Listen = "dash.internal:8086"
		o.AllowedHosts = []string{"ossimport.example.com", "*.corp.example", " Mixed.Case.Example ", "with-port.example:8086"}
	})
	name, _ := os.Hostname()
	served := []string{"localhost", "localhost:8086", "LOCALHOST", "127.0.0.1:8086", "[::1]:8086", "10.1.2.3",
		"app.localhost:8086", "dash.internal:8086", "ossimport.example.com", "OSSIMPORT.example.com.:80",
		"a.corp.example", "b.a.corp.example:8086", "mixed.case.example", "with-port.example", name}
	for _, host := range served {
		if w := do(h, "GET", "/api/jobs", map[string]string{"Host": host}); w.Code != http.StatusOK {
			t.Errorf("Host %q: %d %s, want 200", host, w.Code, w.Body)
		}
	}
	refused := []string{"evil.example", "evil.example:8086", "ossimport.example.com.evil.example", "corp.example",
		"xcorp.example", "localhost.evil.example", "", "dash.internal.evil"}
	for _, host := range refused {
		w := do(h, "GET", "/api/jobs", map[string]string{"Host": host})
		if w.Code != http.StatusMisdirectedRequest || !strings.Contains(w.Body.String(), "httpAllowedHosts") {
			t.Errorf("Host %q: %d %s, want 421 naming httpAllowedHosts", host, w.Code, w.Body)
		}
		if strings.Contains(w.Body.String(), `"jobs"`) || strings.Contains(w.Body.String(), "[") {
			t.Errorf("Host %q: the refusal leaks data: %s", host, w.Body)
		}
	}
}

// TestHostGuardWraps: HostGuard in front of any handler (the service's
// /metrics) lets served names through and refuses others.
func TestHostGuardWraps(t *testing.T) {
	reached := 0
	g := HostGuard("0.0.0.0:8086", nil, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { reached++ }))
	if w := do(g, "GET", "/metrics", map[string]string{"Host": "192.168.0.5:8086"}); w.Code != http.StatusOK || reached != 1 {
		t.Fatalf("served host: %d, reached %d", w.Code, reached)
	}
	if w := do(g, "GET", "/metrics", map[string]string{"Host": "rebind.attacker.example"}); w.Code != http.StatusMisdirectedRequest || reached != 1 {
		t.Fatalf("foreign host: %d, reached %d", w.Code, reached)
	}
}
