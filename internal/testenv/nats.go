package testenv

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// NATSServerPath returns the nats-server binary at the version go.mod
// requires, building it first if needed (scripts/testenv/install-nats-server.sh).
func NATSServerPath(ctx context.Context) (string, error) {
	v, err := natsModuleVersion()
	if err != nil {
		return "", unavailable("%v", err)
	}
	want := filepath.Join(CacheDir(), "bin", "nats-server-"+v, "nats-server")
	return ensureInstalled(ctx, "nats-server "+v, want, "install-nats-server.sh")
}

// natsModuleVersion reads the nats-server/v2 requirement from go.mod.
func natsModuleVersion() (string, error) {
	dir, err := ScriptsDir()
	if err != nil {
		return "", err
	}
	f, err := os.Open(filepath.Join(dir, "..", "..", "go.mod"))
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "github.com/nats-io/nats-server/v2" {
			return fields[1], nil
		}
	}
	return "", errors.New("go.mod does not require github.com/nats-io/nats-server/v2")
}

// NATSClusterOptions configure StartNATSCluster.
type NATSClusterOptions struct {
	// Token authenticates clients (and routes); "" means a random one.
	Token string
	// StartTimeout bounds waiting for the cluster to be healthy
	// (default 60s).
	StartTimeout time.Duration
}

// NATSCluster is n real nats-server processes on loopback forming one
// JetStream cluster: each has its own store directory, client, route and
// monitoring ports (kept across Restart), and the same token.
type NATSCluster struct {
	// Token is what clients authenticate with.
	Token string

	t       testing.TB
	work    string
	bin     string
	timeout time.Duration
	mu      sync.Mutex
	nodes   []*natsNode
}

type natsNode struct {
	name                   string
	client, route, monitor int
	dir, conf, logPath     string
	proc                   *process
}

// StartNATSCluster starts n nats-server processes with JetStream joined by
// routes into one cluster and waits until every node reports healthy
// (/healthz, which includes JetStream's meta group). The processes are
// stopped in t.Cleanup, with their logs' tails logged when the test
// failed. If nats-server cannot be built the test is skipped (failed in CI).
func StartNATSCluster(t testing.TB, n int, opts NATSClusterOptions) *NATSCluster {
	t.Helper()
	bin, err := NATSServerPath(context.Background())
	if err != nil {
		skipOrFatal(t, "nats-server", err)
	}
	if opts.Token == "" {
		var b [16]byte
		_, _ = rand.Read(b[:])
		opts.Token = hex.EncodeToString(b[:])
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 60 * time.Second
	}
	work, err := makeWorkDir("nats")
	if err != nil {
		t.Fatal(err)
	}
	c := &NATSCluster{Token: opts.Token, t: t, work: work, bin: bin, timeout: opts.StartTimeout}
	t.Cleanup(c.stopAll)
	for i := range n {
		nd := &natsNode{name: fmt.Sprintf("n%d", i), dir: filepath.Join(work, fmt.Sprintf("n%d", i))}
		nd.conf = filepath.Join(work, nd.name+".conf")
		nd.logPath = filepath.Join(work, nd.name+".log")
		c.nodes = append(c.nodes, nd)
	}
	// A port found free can be taken by another process before its node
	// binds it (every node's routes name the others' ports, so one node
	// cannot move alone): the whole cluster starts again on new ports.
	const attempts = 3
	for attempt := 1; ; attempt++ {
		if err := c.startAll(); err != nil {
			t.Fatal(err)
		}
		lost := c.waitHealthy()
		if lost < 0 {
			return c
		}
		p := c.nodes[lost].proc
		if !p.addrInUse() || attempt == attempts {
			t.Fatalf("testenv: NATS node %s exited while the cluster started (attempt %d of %d):\n%s", c.nodes[lost].name, attempt, attempts, c.Logs(40))
		}
		c.stopNodes()
	}
}

// natsPort picks a port for a cluster node (a variable for the test of a
// port taken before its node binds it).
var natsPort = func() (int, error) { return FreePort("127.0.0.1") }

// startAll gives every node fresh ports and an empty store, and starts it.
func (c *NATSCluster) startAll() error {
	var err error
	for _, nd := range c.nodes {
		for _, p := range []*int{&nd.client, &nd.route, &nd.monitor} {
			if *p, err = natsPort(); err != nil {
				return err
			}
		}
		if err := os.RemoveAll(nd.dir); err != nil {
			return err
		}
		if err := os.MkdirAll(nd.dir, 0o700); err != nil {
			return err
		}
	}
	for _, nd := range c.nodes {
		if err := os.WriteFile(nd.conf, []byte(c.config(nd)), 0o600); err != nil {
			return err
		}
	}
	for i := range c.nodes {
		c.start(i)
	}
	return nil
}

// config is one node's configuration file (the token stays out of argv).
func (c *NATSCluster) config(nd *natsNode) string {
	var routes []string
	for _, o := range c.nodes {
		if o != nd {
			routes = append(routes, fmt.Sprintf("%q", fmt.Sprintf("nats://127.0.0.1:%d", o.route)))
		}
	}
	return fmt.Sprintf(`server_name: %s
listen: "127.0.0.1:%d"
http: "127.0.0.1:%d"
authorization { token: %q }
jetstream { store_dir: %q, max_memory_store: 256MB, max_file_store: 4GB }
cluster {
  name: ossimport-test
  listen: "127.0.0.1:%d"
  routes: [%s]
}
`, nd.name, nd.client, nd.monitor, c.Token, nd.dir, nd.route, strings.Join(routes, ", "))
}

func (c *NATSCluster) start(i int) {
	c.t.Helper()
	nd := c.nodes[i]
	p, err := startProcess("nats-server "+nd.name, nd.logPath, childEnv(nil), c.bin, "-c", nd.conf)
	if err != nil {
		c.t.Fatal(err)
	}
	c.mu.Lock()
	nd.proc = p
	c.mu.Unlock()
}

// N is the number of nodes.
func (c *NATSCluster) N() int { return len(c.nodes) }

// ClientURLs are the nodes' client URLs, node order.
func (c *NATSCluster) ClientURLs() []string {
	urls := make([]string, len(c.nodes))
	for i, nd := range c.nodes {
		urls[i] = fmt.Sprintf("nats://127.0.0.1:%d", nd.client)
	}
	return urls
}

// MonitorURL is node i's HTTP monitoring endpoint (/varz, /connz, /jsz).
func (c *NATSCluster) MonitorURL(i int) string {
	return fmt.Sprintf("http://127.0.0.1:%d", c.nodes[i].monitor)
}

// URLs is ClientURLs joined with commas, as natsUrl takes them.
func (c *NATSCluster) URLs() string { return strings.Join(c.ClientURLs(), ",") }

// Kill ends node i with SIGKILL (no graceful shutdown: a node loss) and
// waits until the process is gone. Its store is kept for Restart.
func (c *NATSCluster) Kill(i int) {
	c.mu.Lock()
	p := c.nodes[i].proc
	c.nodes[i].proc = nil
	c.mu.Unlock()
	if p == nil {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
	p.stop(0)
}

// Restart starts node i again, on the same ports and store, and waits
// until the whole cluster is healthy.
func (c *NATSCluster) Restart(i int) {
	c.t.Helper()
	c.Kill(i)
	c.start(i)
	c.WaitHealthy()
}

// Running reports whether node i runs.
func (c *NATSCluster) Running(i int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[i].proc != nil && !c.nodes[i].proc.exited()
}

// WaitHealthy waits until every running node answers /healthz with 200
// and the JetStream meta leader sees every other running node as a
// current peer (before that, placing a replicated stream can fail with
// "no suitable peers for placement"). A node that exits meanwhile fails
// the test.
func (c *NATSCluster) WaitHealthy() {
	c.t.Helper()
	if lost := c.waitHealthy(); lost >= 0 {
		c.t.Fatalf("testenv: NATS node %s exited while the cluster came up:\n%s", c.nodes[lost].name, c.Logs(40))
	}
}

// waitHealthy is WaitHealthy returning the index of a node that exited
// instead (-1 when the cluster became healthy).
func (c *NATSCluster) waitHealthy() (lost int) {
	c.t.Helper()
	var last error
	lost = -1
	Wait(c.t, c.timeout, "the NATS cluster to be healthy", func() bool {
		running := 0
		for i, nd := range c.nodes {
			c.mu.Lock()
			p := nd.proc
			c.mu.Unlock()
			if p == nil {
				continue // killed by the test
			}
			if p.exited() {
				lost = i
				return true
			}
			running++
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			last = httpCheck200(ctx, fmt.Sprintf("http://127.0.0.1:%d/healthz", nd.monitor))
			cancel()
			if last != nil {
				return false
			}
		}
		if last = c.metaComplete(running); last != nil {
			return false
		}
		last = c.canPlace(running)
		return last == nil
	}, func() string { return fmt.Sprintf("last check: %v\n%s", last, c.Logs(20)) })
	return lost
}

// canPlace proves that JetStream places a stream of n replicas (right
// after start the servers may not yet have reported their resources to
// the meta leader, which then answers "insufficient resources").
func (c *NATSCluster) canPlace(n int) error {
	nc, err := nats.Connect(c.URLs(), nats.Token(c.Token), nats.Timeout(2*time.Second))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	name := fmt.Sprintf("TESTENV_PROBE_%d", time.Now().UnixNano())
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{"testenv.probe." + name},
		Storage: jetstream.MemoryStorage, Replicas: n, MaxBytes: 1024}); err != nil {
		return fmt.Errorf("place a stream of %d replicas: %w", n, err)
	}
	return js.DeleteStream(ctx, name)
}

// metaComplete checks that the meta leader counts running-1 current peers.
func (c *NATSCluster) metaComplete(running int) error {
	type jsz struct {
		Meta struct {
			Leader   string `json:"leader"`
			Replicas []struct {
				Name    string `json:"name"`
				Current bool   `json:"current"`
				Offline bool   `json:"offline"`
			} `json:"replicas"`
		} `json:"meta_cluster"`
	}
	for i, nd := range c.nodes {
		if !c.Running(i) {
			continue
		}
		var z jsz
		if err := getJSON(fmt.Sprintf("http://127.0.0.1:%d/jsz", nd.monitor), &z); err != nil {
			return err
		}
		if z.Meta.Leader != nd.name {
			continue
		}
		current := 0
		for _, r := range z.Meta.Replicas {
			if r.Current && !r.Offline {
				current++
			}
		}
		if current != running-1 {
			return fmt.Errorf("meta leader %s sees %d current peers, want %d", nd.name, current, running-1)
		}
		return nil
	}
	return errors.New("no running node is the JetStream meta leader yet")
}

func getJSON(url string, v any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := probeTransport.RoundTrip(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// Logs returns the last n lines of every node's log, leaving out the
// repeated "Error trying to connect to route" of a node whose peer is
// down.
func (c *NATSCluster) Logs(n int) string {
	var b strings.Builder
	for _, nd := range c.nodes {
		data, _ := os.ReadFile(nd.logPath)
		var keep []string
		for line := range strings.SplitSeq(string(data), "\n") {
			if line != "" && !strings.Contains(line, "Error trying to connect to route") {
				keep = append(keep, line)
			}
		}
		fmt.Fprintf(&b, "--- %s (%s):\n%s\n", nd.name, nd.logPath, lastLines(strings.Join(keep, "\n"), n))
	}
	return b.String()
}

func (c *NATSCluster) stopAll() {
	if c.t.Failed() {
		c.t.Logf("testenv: NATS cluster logs:\n%s", c.Logs(120))
	}
	c.stopNodes()
	_ = os.RemoveAll(c.work)
}

// stopNodes stops every node's process.
func (c *NATSCluster) stopNodes() {
	var wg sync.WaitGroup
	for i := range c.nodes {
		c.mu.Lock()
		p := c.nodes[i].proc
		c.nodes[i].proc = nil
		c.mu.Unlock()
		if p != nil {
			wg.Go(func() { p.stop(5 * time.Second) })
		}
	}
	wg.Wait()
}
