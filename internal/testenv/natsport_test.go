package testenv

import (
	"net"
	"sync"
	"testing"
)

// TestNATSClusterStartsAgainWhenAPortIsTaken: a port found free and then
// taken by another process before its node binds it (other test binaries
// open listeners all the time) makes the whole cluster start again on
// new ports, instead of going on with a node short.
func TestNATSClusterStartsAgainWhenAPortIsTaken(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := taken.Addr().(*net.TCPAddr).Port
	pick, once := natsPort, sync.Once{}
	natsPort = func() (int, error) {
		p := 0
		once.Do(func() { p = port }) // n0's client port, held above
		if p != 0 {
			return p, nil
		}
		return pick()
	}
	defer func() { natsPort = pick }()

	c := StartNATSCluster(t, 3, NATSClusterOptions{})
	for i := range c.N() {
		if !c.Running(i) {
			t.Fatalf("node %d does not run:\n%s", i, c.Logs(20))
		}
	}
	if c.nodes[0].client == port {
		t.Fatalf("n0 kept the taken port %d", port)
	}
}

// TestFreePortStaysBelowTheEphemeralRange: ports for test servers come
// from below the kernel's ephemeral range, which no outgoing connection
// or listener on port 0 uses, and one process never gets a port twice.
func TestFreePortStaysBelowTheEphemeralRange(t *testing.T) {
	lo, hi := portBand()
	seen := map[int]bool{}
	for range 50 {
		p, err := FreePort("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		if p < lo || p >= hi {
			t.Fatalf("port %d outside [%d, %d)", p, lo, hi)
		}
		if seen[p] {
			t.Fatalf("port %d handed out twice", p)
		}
		seen[p] = true
	}
}
