package service

import (
	"slices"
	"strings"
	"testing"

	"github.com/ossimport/ossimport/internal/config"
)

// The first three hosts of conf/workers run the embedded cluster: each
// routes to the other two on natsClusterPort, and workers get all three
// client URLs.
func TestEmbeddedClusterOptionsFromWorkers(t *testing.T) {
	s, diags := config.ParseSys("s", []byte("natsEmbeddedCluster=true\nnatsClusterPort=7222\nnatsPort=4333\n"))
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	w, wd := config.ParseWorkers("workers", []byte("10.0.0.1\n10.0.0.2:2222\nhost-c\n10.0.0.4\n"))
	if err := wd.Err(); err != nil {
		t.Fatal(err)
	}
	c, err := embeddedClusterOptions(s, w, 1)
	if err != nil {
		t.Fatal(err)
	}
	if c.ServerName != "10.0.0.2" || c.Port != 7222 || !slices.Equal(c.Routes, []string{"10.0.0.1:7222", "host-c:7222"}) {
		t.Fatalf("cluster options %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := embeddedClusterOptions(s, w, 3); err == nil || !strings.Contains(err.Error(), "first three") {
		t.Fatalf("the fourth host runs a server: %v", err)
	}
	urls, err := EmbeddedClusterURLs(s, w)
	if err != nil || !slices.Equal(urls, []string{"tls://10.0.0.1:4333", "tls://10.0.0.2:4333", "tls://host-c:4333"}) {
		t.Fatalf("urls %v (%v)", urls, err)
	}
	// natsAutoTls=false: clear text, as ossimport had it.
	plain, _ := config.ParseSys("s", []byte("natsEmbeddedCluster=true\nnatsPort=4333\nnatsAutoTls=false\n"))
	if urls, err := EmbeddedClusterURLs(plain, w); err != nil || urls[0] != "nats://10.0.0.1:4333" {
		t.Fatalf("urls without TLS %v (%v)", urls, err)
	}
	two, _ := config.ParseWorkers("workers", []byte("10.0.0.1\n10.0.0.2\n"))
	if _, err := embeddedClusterOptions(s, two, 0); err == nil || !strings.Contains(err.Error(), "at least 3 hosts") {
		t.Fatalf("two hosts: %v", err)
	}
}

// TestLocalWorkerName: the service's own worker is named after the host;
// with natsUrl (a NATS other services share) the name also tells two
// working directories of one host apart, the same name for one
// directory whatever its spelling.
func TestLocalWorkerName(t *testing.T) {
	host := hostName()
	if host == "" {
		host = "localhost"
	}
	embedded := config.DefaultSys()
	embedded.WorkingDir = "/srv/a"
	if n := LocalWorkerName(embedded); n != host {
		t.Fatalf("embedded NATS: %q, want the host name %q", n, host)
	}
	shared := func(dir string) string {
		s := config.DefaultSys()
		s.WorkingDir, s.NATSURLs = dir, []string{"nats://10.0.0.1:4222"}
		return LocalWorkerName(s)
	}
	a, a2, b := shared("/srv/a"), shared("/srv/x/../a"), shared("/srv/b")
	if !strings.HasPrefix(a, host+"-") || len(a) != len(host)+7 || a != a2 || a == b {
		t.Fatalf("natsUrl names %q, %q, %q: want %s-<6 hex>, equal for one directory, different for two", a, a2, b, host)
	}
}
