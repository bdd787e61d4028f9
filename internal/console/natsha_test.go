package console

import (
	"os"
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
	urls, err := embeddedClusterURLs(s, w)
	if err != nil || !slices.Equal(urls, []string{"nats://10.0.0.1:4333", "nats://10.0.0.2:4333", "nats://host-c:4333"}) {
		t.Fatalf("urls %v (%v)", urls, err)
	}
	two, _ := config.ParseWorkers("workers", []byte("10.0.0.1\n10.0.0.2\n"))
	if _, err := embeddedClusterOptions(s, two, 0); err == nil || !strings.Contains(err.Error(), "at least 3 hosts") {
		t.Fatalf("two hosts: %v", err)
	}
}

func TestLocalWorkerNameIsTheHostName(t *testing.T) {
	if n := localWorkerName(); n == "" || (n == "localhost" && hostName() != "") {
		t.Fatalf("localWorkerName() = %q, host name %q", n, hostName())
	}
}

func hostName() string {
	h, _ := os.Hostname()
	return strings.TrimSpace(h)
}
