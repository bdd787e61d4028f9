package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Host is a test "machine": a network namespace with one interface (eth0)
// plugged into a private bridge in the root namespace. Hosts of one
// NetworkHosts call reach each other and the root namespace (RootIP), and
// are reached from it at IP.
type Host struct {
	Name   string // "host1", "host2", ...
	NS     string // network namespace (for `ip netns exec` or SSHOptions.NetNS)
	IP     string // this host's address, e.g. "10.231.7.2"
	RootIP string // the root namespace's address on the test network (".1")

	link   string // host-side veth (root namespace)
	ipPath string
}

// netns names: "ossimport-<runID>-hostN"; bridge "oib<runID>"; host-side
// veths "oiv<runID><NN>". runID is the pid (5 base-36 digits, so stale
// leftovers of dead test processes can be found) and a per-process sequence
// number (3 base-36 digits). Interface names stay within 15 characters.
const (
	nsPrefix     = "ossimport-"
	bridgePrefix = "oib"
	vethPrefix   = "oiv"
	testNet      = "10.231." // test subnets are 10.231.X.0/24
)

var netnsSeq atomic.Int64

// IPPath returns the path of iproute2's ip, installing iproute2 if needed.
func IPPath(ctx context.Context) (string, error) {
	for _, p := range []string{"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"} {
		if isExecutable(p) {
			return p, nil
		}
	}
	if p, err := exec.LookPath("ip"); err == nil {
		return p, nil
	}
	return ensureInstalled(ctx, "iproute2", "", "install-iproute2.sh")
}

// NetworkHosts creates n test hosts (network namespaces) on a fresh private
// /24 subnet 10.231.X.0/24: a bridge in the root namespace holds .1 and the
// hosts get .2, .3, ... . Everything is removed in t.Cleanup, even if the test
// fails; leftovers of test processes that died are removed on the next call.
// It needs root and iproute2 (installed if missing); without them the test is
// skipped, or fails if CI is set.
func NetworkHosts(t testing.TB, n int) []Host {
	t.Helper()
	if n < 1 || n > 250 {
		t.Fatalf("testenv: NetworkHosts: n=%d, want 1..250", n)
	}
	if os.Geteuid() != 0 {
		skipOrFatal(t, "network namespaces", unavailable("NetworkHosts needs root"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ipPath, err := IPPath(ctx)
	if err != nil {
		skipOrFatal(t, "iproute2", err)
	}

	runID := fmt.Sprintf("%05s%03s",
		strconv.FormatInt(int64(os.Getpid()), 36),
		strconv.FormatInt(netnsSeq.Add(1)%(36*36*36), 36))
	runID = strings.ReplaceAll(runID, " ", "0")
	bridge := bridgePrefix + runID
	hosts := make([]Host, n)
	for i := range hosts {
		hosts[i] = Host{
			Name:   "host" + strconv.Itoa(i+1),
			NS:     nsPrefix + runID + "-host" + strconv.Itoa(i+1),
			link:   fmt.Sprintf("%s%s%02s", vethPrefix, runID, strconv.FormatInt(int64(i), 36)),
			ipPath: ipPath,
		}
		hosts[i].link = strings.ReplaceAll(hosts[i].link, " ", "0")
	}
	ip := func(args ...string) error { return runIP(ctx, ipPath, args...) }

	// Registered before anything is created: removes whatever exists.
	t.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(context.Background(), time.Minute)
		defer ccancel()
		var errs []error
		for _, h := range hosts {
			// Deleting the veth removes its peer; deleting the namespace
			// unmounts it (it lives on only while processes remain inside).
			if linkExists(cctx, ipPath, h.link) {
				errs = append(errs, runIP(cctx, ipPath, "link", "del", h.link))
			}
			if nsExists(h.NS) {
				errs = append(errs, runIP(cctx, ipPath, "netns", "del", h.NS))
			}
		}
		if linkExists(cctx, ipPath, bridge) {
			errs = append(errs, runIP(cctx, ipPath, "link", "del", bridge))
		}
		if err := errors.Join(errs...); err != nil {
			t.Errorf("testenv: NetworkHosts cleanup: %v", err)
		}
	})

	subnet, err := func() (string, error) {
		// Serialise subnet choice and bridge creation across processes.
		unlock, err := lockFile("/run/ossimport-testenv-netns.lock")
		if err != nil {
			return "", err
		}
		defer unlock()
		cleanStaleNetns(ctx, ipPath)
		subnet, err := pickSubnet(ctx, ipPath)
		if err != nil {
			return "", err
		}
		if err := ip("link", "add", bridge, "type", "bridge"); err != nil {
			return "", err
		}
		if err := ip("addr", "add", subnet+"1/24", "dev", bridge); err != nil {
			return "", err
		}
		return subnet, ip("link", "set", bridge, "up")
	}()
	if err != nil {
		skipOrFatal(t, "network namespaces", unavailable("creating the test bridge: %v", err))
	}

	for i := range hosts {
		h := &hosts[i]
		h.IP = subnet + strconv.Itoa(i+2)
		h.RootIP = subnet + "1"
		steps := [][]string{
			{"netns", "add", h.NS},
			{"link", "add", h.link, "type", "veth", "peer", "name", "eth0", "netns", h.NS},
			{"link", "set", h.link, "master", bridge},
			{"link", "set", h.link, "up"},
			{"-n", h.NS, "addr", "add", h.IP + "/24", "dev", "eth0"},
			{"-n", h.NS, "link", "set", "lo", "up"},
			{"-n", h.NS, "link", "set", "eth0", "up"},
			{"-n", h.NS, "route", "add", "default", "via", h.RootIP},
		}
		for _, s := range steps {
			if err := ip(s...); err != nil {
				skipOrFatal(t, "network namespaces", unavailable("setting up %s: %v", h.Name, err))
			}
		}
	}
	return hosts
}

// LinkDown unplugs the host from the test network (its veth goes down):
// connections to and from it fail until LinkUp.
func (h Host) LinkDown(t testing.TB) {
	t.Helper()
	if err := runIP(context.Background(), h.ipPath, "link", "set", h.link, "down"); err != nil {
		t.Fatalf("testenv: %s link down: %v", h.Name, err)
	}
}

// LinkUp plugs the host back in.
func (h Host) LinkUp(t testing.TB) {
	t.Helper()
	if err := runIP(context.Background(), h.ipPath, "link", "set", h.link, "up"); err != nil {
		t.Fatalf("testenv: %s link up: %v", h.Name, err)
	}
}

// Command returns a command that runs name inside the host's network
// namespace (via ip netns exec).
func (h Host) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, h.ipPath, append([]string{"netns", "exec", h.NS, name}, args...)...)
}

func runIP(ctx context.Context, ipPath string, args ...string) error {
	out, err := exec.CommandContext(ctx, ipPath, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

func linkExists(ctx context.Context, ipPath, name string) bool {
	return exec.CommandContext(ctx, ipPath, "link", "show", "dev", name).Run() == nil
}

func nsExists(name string) bool {
	_, err := os.Stat("/run/netns/" + name)
	return err == nil
}

// pickSubnet returns "10.231.X." for an X that no address or route on this
// machine uses yet.
func pickSubnet(ctx context.Context, ipPath string) (string, error) {
	var used bytes.Buffer
	for _, args := range [][]string{{"-o", "-4", "addr", "show"}, {"-4", "route", "show", "table", "all"}} {
		out, err := exec.CommandContext(ctx, ipPath, args...).Output()
		if err != nil {
			return "", fmt.Errorf("ip %s: %v", strings.Join(args, " "), err)
		}
		used.Write(out)
	}
	start := mrand.IntN(256)
	for i := 0; i < 256; i++ {
		x := (start + i) % 256
		prefix := testNet + strconv.Itoa(x) + "."
		if !bytes.Contains(used.Bytes(), []byte(prefix)) {
			return prefix, nil
		}
	}
	return "", errors.New("no free 10.231.X.0/24 test subnet")
}

// cleanStaleNetns removes namespaces and links left by test processes that
// no longer exist (e.g. killed by a test timeout before t.Cleanup ran).
func cleanStaleNetns(ctx context.Context, ipPath string) {
	entries, _ := os.ReadDir("/run/netns")
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, nsPrefix) {
			continue
		}
		if id := strings.TrimPrefix(name, nsPrefix); len(id) >= 8 && !pidAlive(id[:5]) {
			_ = runIP(ctx, ipPath, "netns", "del", name)
		}
	}
	out, err := exec.CommandContext(ctx, ipPath, "-o", "link", "show").Output()
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		// "12: oib0abcd001: <...>" or "13: oiv0abcd00100@if2: <...>"
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
		for _, p := range []string{bridgePrefix, vethPrefix} {
			if id := strings.TrimPrefix(name, p); id != name && len(id) >= 8 && !pidAlive(id[:5]) {
				_ = runIP(ctx, ipPath, "link", "del", name)
			}
		}
	}
}

// pidAlive reports whether the process whose pid is base-36 s exists
// (unparsable names are treated as alive, i.e. not ours to remove).
func pidAlive(s string) bool {
	pid, err := strconv.ParseInt(s, 36, 64)
	if err != nil || pid <= 0 {
		return true
	}
	err = syscall.Kill(int(pid), 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// lockFile takes an exclusive flock on path.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		_ = f.Close()
		return nil, err
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	}, nil
}
