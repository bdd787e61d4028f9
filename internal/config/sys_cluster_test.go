package config

import (
	"strings"
	"testing"
)

func TestNATSClusterKeys(t *testing.T) {
	s, diags := ParseSys("s", nil)
	if s.NATSReplicas != 0 || s.NATSEmbeddedCluster || s.NATSClusterPort != 6222 {
		t.Fatalf("defaults: replicas %d, embedded cluster %v, cluster port %d", s.NATSReplicas, s.NATSEmbeddedCluster, s.NATSClusterPort)
	}
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		text, key, severity, says string
	}{
		{"natsReplicas=3\n", "natsReplicas", "error", "embedded NATS server is alone"},
		{"natsReplicas=4\nnatsEmbeddedCluster=true\n", "natsReplicas", "error", "more than the 3 servers"},
		{"natsReplicas=1\nnatsEmbeddedCluster=true\n", "natsReplicas", "warning", "one copy"},
		{"natsEmbeddedCluster=true\nnatsUrl=nats://10.0.0.1:4222\n", "natsEmbeddedCluster", "error", "set one of them"},
		{"natsEmbeddedCluster=true\nnatsClusterPort=4222\n", "natsClusterPort", "error", "must differ"},
		{"natsReplicas=6\n", "natsReplicas", "error", ""},
	} {
		_, diags := ParseSys("s", []byte(c.text))
		found := false
		for _, d := range diags {
			if d.Key == c.key && strings.Contains(strings.ToLower(d.Severity.String()), c.severity) && strings.Contains(d.Msg, c.says) {
				found = true
			}
		}
		if !found {
			t.Errorf("%q: no %s on %s saying %q; got %v", c.text, c.severity, c.key, c.says, diags)
		}
	}
	for _, ok := range []string{"natsReplicas=3\nnatsUrl=nats://a:4222,nats://b:4222,nats://c:4222\n", "natsReplicas=3\nnatsEmbeddedCluster=true\n", "natsReplicas=1\n"} {
		if _, diags := ParseSys("s", []byte(ok)); len(diags) != 0 {
			t.Errorf("%q: %v", ok, diags)
		}
	}
}
