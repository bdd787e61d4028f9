package bus

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/testenv"
)

// embeddedCluster is three embedded servers routed into one JetStream
// cluster on loopback, sharing one token file.
type embeddedCluster struct {
	t     *testing.T
	opts  []ServerOptions
	srvs  []*Server
	token string
}

func startEmbeddedCluster(t *testing.T) *embeddedCluster {
	t.Helper()
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("cluster-test-token-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &embeddedCluster{t: t, srvs: make([]*Server, 3)}
	var routes []string
	client := make([]int, 3)
	for i := range 3 {
		client[i] = testenv.LoopbackPort(t)
		routes = append(routes, fmt.Sprintf("127.0.0.1:%d", testenv.LoopbackPort(t)))
	}
	for i := range 3 {
		var peers []string
		for j, r := range routes {
			if j != i {
				peers = append(peers, r)
			}
		}
		_, port, _ := net.SplitHostPort(routes[i])
		var p int
		fmt.Sscan(port, &p)
		c.opts = append(c.opts, ServerOptions{
			Dir: filepath.Join(dir, fmt.Sprintf("s%d", i)), TokenFile: tokenFile, Port: client[i],
			Cluster: &ClusterOptions{ServerName: fmt.Sprintf("s%d", i), Port: p, Routes: peers},
		})
	}
	// The servers start concurrently: each waits for its routes before
	// JetStream's meta group can form.
	errs := make(chan error, 3)
	for i := range 3 {
		go func() {
			srv, err := StartServer(c.opts[i])
			c.srvs[i] = srv
			errs <- err
		}()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	c.token = c.srvs[0].Token()
	t.Cleanup(func() {
		for _, s := range c.srvs {
			if s != nil {
				s.Shutdown()
			}
		}
	})
	return c
}

func (c *embeddedCluster) urls() string {
	var u []string
	for _, o := range c.opts {
		u = append(u, fmt.Sprintf("nats://127.0.0.1:%d", o.Port))
	}
	return strings.Join(u, ",")
}

func (c *embeddedCluster) connect(ctx context.Context, so SetupOptions) *Bus {
	c.t.Helper()
	b, err := Connect(ctx, ConnOptions{URLs: c.urls(), Token: c.token, Name: c.t.Name()})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(b.Close)
	so.Retry = Retry{Patience: 45 * time.Second}
	if err := b.Setup(ctx, so); err != nil {
		c.t.Fatal(err)
	}
	return b
}

// Three embedded servers form one JetStream cluster: the assets created
// with the default replicas have 3, R1 assets are brought to 3 by an
// updating Setup, and a KV entry survives the shutdown of any one server.
func TestEmbeddedClusterReplicatesAndSurvivesANodeLoss(t *testing.T) {
	c := startEmbeddedCluster(t)
	ctx, cancel := context.WithTimeout(t.Context(), testenv.Scale(150*time.Second))
	defer cancel()

	// Created as R1 first (what an older version did), then updated
	// with the default, which on this cluster is 3.
	b := c.connect(ctx, SetupOptions{Replicas: 1, Update: true})
	if !b.Clustered() {
		t.Fatal("Clustered: false on a cluster of three")
	}
	checkReplicas(t, ctx, b, 1)
	b = c.connect(ctx, SetupOptions{Update: true})
	checkReplicas(t, ctx, b, 3)
	// A client that does not update keeps what exists.
	c.connect(ctx, SetupOptions{Replicas: 1})
	checkReplicas(t, ctx, b, 3)

	if err := b.Jobs().Put(ctx, "k", []byte("v0")); err != nil {
		t.Fatal(err)
	}
	current := func() bool {
		r, err := b.Replication(ctx)
		if err != nil {
			return false
		}
		for _, a := range r {
			if a.Current != 3 {
				return false
			}
		}
		return true
	}
	// The assets scaled from 1 replica to 3 must have caught up before a
	// server goes: until then the first server holds the only copy.
	testenv.Wait(t, DefaultPatience, "the scaled-up replicas to catch up", current)
	for i := range 3 {
		c.srvs[i].Shutdown()
		c.srvs[i] = nil
		want, next := fmt.Sprintf("v%d", i), fmt.Sprintf("v%d", i+1)
		// As long as the service's own patience with elections
		// (DefaultPatience): a loaded machine elects slowly.
		testenv.Wait(t, DefaultPatience, fmt.Sprintf("the KV entry to be read and written with server s%d down", i), func() bool {
			octx, ocancel := context.WithTimeout(ctx, 5*time.Second)
			defer ocancel()
			got, err := b.Jobs().Get(octx, "k")
			if err != nil {
				return false
			}
			switch string(got) {
			case next:
				return true // an earlier Put was applied although its answer timed out
			case want:
				return b.Jobs().Put(octx, "k", []byte(next)) == nil
			}
			t.Fatalf("the KV entry holds %q, want %q or %q", got, want, next)
			return false
		})
		srv, err := StartServer(c.opts[i])
		if err != nil {
			t.Fatal(err)
		}
		c.srvs[i] = srv
		testenv.Wait(t, DefaultPatience, fmt.Sprintf("server s%d to catch up", i), current)
	}
}

func checkReplicas(t *testing.T, ctx context.Context, b *Bus, want int) {
	t.Helper()
	r, err := b.Replication(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(r) != len(AssetStreams) {
		t.Fatalf("Replication reports %d assets, want %d: %+v", len(r), len(AssetStreams), r)
	}
	for _, a := range r {
		if a.Replicas != want {
			t.Fatalf("%s has %d replicas, want %d (all: %+v)", a.Stream, a.Replicas, want, r)
		}
	}
}
