package console

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/service"
	"github.com/ossimport/ossimport/internal/testenv"
	"github.com/ossimport/ossimport/internal/tracker"
)

// cluster of the distributed tests: the master on this machine (the
// first line of conf/workers, the test bridge's address) and worker hosts
// in network namespaces, each with a real sshd and its own working
// directory at the same path as the master's (a bind mount in the host's
// own mount namespace), as separate machines would have.
type testCluster struct {
	h       *testHome
	d       *s3Dest
	hosts   []testenv.Host
	hostDir []string // what each host sees at h.dir
	master  string   // the master's address on the test network
	secret  string   // workerPassword, which must not reach the workers
}

func newTestCluster(t *testing.T, n int, sysExtra, jobExtra string) *testCluster {
	t.Helper()
	if testing.Short() {
		t.Skip("network namespaces and sshd: skipped in -short mode")
	}
	hosts := testenv.NetworkHosts(t, n)
	h := newTestHome(t, "", "")
	c := &testCluster{h: h, hosts: hosts, master: hosts[0].RootIP,
		secret: fmt.Sprintf("ssh-pass-%d", time.Now().UnixNano())}
	base := t.TempDir()
	var srvs []*testenv.SSHServer
	for i, nh := range hosts {
		dir := filepath.Join(base, nh.Name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		c.hostDir = append(c.hostDir, dir)
		srvs = append(srvs, testenv.SSHD(t, testenv.SSHOptions{ListenAddr: nh.IP, NetNS: nh.NS,
			Binds: []testenv.Bind{{Source: dir, Target: h.dir}}}))
		_ = i
	}
	t.Cleanup(c.killWorkers)
	// One client key for every host, and their host keys in one
	// known_hosts file.
	pub, err := os.ReadFile(srvs[0].PrivateKeyFile + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	var known []string
	for _, s := range srvs {
		known = append(known, s.KnownHostsLine)
		if s != srvs[0] {
			f, err := os.OpenFile(filepath.Join(s.Dir, "authorized_keys"), os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.Write(pub)
			f.Close()
		}
	}
	knownHosts := filepath.Join(base, "known_hosts")
	h.write(knownHosts, strings.Join(known, "\n")+"\n")

	secret := fmt.Sprintf("dist-secret-%d", time.Now().UnixNano())
	srv := testenv.VersityGW(t, testenv.WithCredentials("ossimport-dist-ak", secret), testenv.WithHost(c.master))
	c.d = &s3Dest{srv: srv, bucket: srv.CreateBucket(t, "")}

	h.write(h.sys, fmt.Sprintf("workingDir=%s\nnatsPort=%d\ntaskAckWait=10\ntaskMaxDeliver=5\nworkerTaskThreadNum=2\njavaHeapMaxSize=256m\nhttpListen=\n"+
		"workerUserName=%s\nworkerPassword=%s\nprivateKeyFile=%s\nsshKnownHostsFile=%s\n%s",
		h.dir, h.port, srvs[0].User, c.secret, srvs[0].PrivateKeyFile, knownHosts, sysExtra))
	lines := []string{c.master}
	for _, nh := range hosts {
		lines = append(lines, nh.IP)
	}
	h.write(filepath.Join(h.dir, "conf", "workers"), strings.Join(lines, "\n")+"\n")
	h.job = filepath.Join(h.dir, "conf", "job.cfg")
	h.write(h.job, fmt.Sprintf("jobName=%s\njobType=import\nsrcType=local\nsrcPrefix=%s/\n"+
		"destType=s3\ndestDomain=%s\ndestBucket=%s\ndestAccessKey=%s\ndestSecretKey=%s\n"+
		"taskObjectCountLimit=10\nmultipartUploadThreshold=2m\nmultipartUploadPartSize=1m\n%s",
		failJob, h.src, srv.Endpoint, c.d.bucket, srv.AccessKey, srv.SecretKey, jobExtra))
	return c
}

// workerPid is the pid of host i's worker, or 0.
func (c *testCluster) workerPid(i int) int {
	pid := service.ReadPidFile(filepath.Join(c.hostDir[i], "worker-"+c.hosts[i].IP+".pid"))
	if service.ProcessAlive(pid) {
		return pid
	}
	return 0
}

// killWorkers kills the workers the test left running.
func (c *testCluster) killWorkers() {
	for i := range c.hosts {
		if pid := c.workerPid(i); pid > 0 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// workers returns the master's record of the workers by name.
func (c *testCluster) workers() map[string]tracker.WorkerStatus {
	ws, _ := tracker.ReadWorkers(c.h.workdir())
	out := map[string]tracker.WorkerStatus{}
	for _, w := range ws {
		out[w.Name] = w
	}
	return out
}

// hostLogs is the end of every host's worker output, for failures.
func (c *testCluster) hostLogs() string {
	var b strings.Builder
	for i, nh := range c.hosts {
		for _, name := range []string{"worker.out", "worker.log"} {
			fmt.Fprintf(&b, "\n--- %s logs/%s ---\n%s\n", nh.Name, name, service.TailFile(filepath.Join(c.hostDir[i], "logs", name), 0, 15))
		}
	}
	return c.h.logs() + b.String()
}

func TestDistributedLifecycle(t *testing.T) {
	// Throttled so that every host gets a share of the work.
	c := newTestCluster(t, 3, "workerMaxThroughput(KB/s)=200\n", "")
	h := c.h
	files := h.writeFiles(h.src, 120, 2000, 0)
	h.addBig(files, "big/multipart.bin", 5<<20, 7)

	r := h.console("deploy")
	if r.code != 0 || !strings.Contains(r.stdout, "deployed to 3 of 3 hosts") {
		t.Fatalf("deploy: %s", r)
	}
	for i, dir := range c.hostDir {
		sys, err := os.ReadFile(filepath.Join(dir, "conf", "sys.properties"))
		if err != nil {
			t.Fatalf("%s: %v", c.hosts[i].Name, err)
		}
		if strings.Contains(string(sys), c.secret) || !strings.Contains(string(sys), "workingDir="+h.dir) {
			t.Fatalf("%s: deployed sys.properties keeps workerPassword or lacks workingDir:\n%s", c.hosts[i].Name, sys)
		}
		if fi, err := os.Stat(filepath.Join(dir, "bin", "ossimport")); err != nil || fi.Mode().Perm()&0o100 == 0 {
			t.Fatalf("%s: binary not deployed executable: %v", c.hosts[i].Name, err)
		}
	}
	// Deploying again uploads nothing.
	if r := h.console("deploy"); r.code != 0 || len(regexp.MustCompile(`(?m) OK +0 +3 `).FindAllString(r.stdout, -1)) != 3 {
		t.Errorf("second deploy should skip every file (binary, sys.properties, the NATS CA) on every host: %s", r)
	}

	h.mustConsole("", "submit", h.job)
	r = h.console("start")
	if r.code != 0 || !strings.Contains(r.stdout, "Start import service completed.") || strings.Count(r.stdout, " started") != 3 {
		t.Fatalf("start: %s%s", r, c.hostLogs())
	}
	token, err := os.ReadFile(h.workdir().Token())
	if err != nil {
		t.Fatal(err)
	}
	for i := range c.hosts {
		pid := c.workerPid(i)
		if pid == 0 {
			t.Fatalf("%s runs no worker%s", c.hosts[i].Name, c.hostLogs())
		}
		cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if strings.Contains(string(cmdline), strings.TrimSpace(string(token))) || strings.Contains(string(cmdline), c.secret) {
			t.Fatalf("%s: a secret is on the worker's command line: %q", c.hosts[i].Name, cmdline)
		}
		if !strings.Contains(string(cmdline), "--token-file\x00-") {
			t.Errorf("%s: worker command line %q: want the token from standard input", c.hosts[i].Name, cmdline)
		}
		if !strings.Contains(string(cmdline), "--nats\x00tls://") {
			t.Errorf("%s: worker command line %q: want TLS to the master's NATS (natsAutoTls)", c.hosts[i].Name, cmdline)
		}
	}
	// natsAutoTls: the master's NATS, reachable from the other hosts,
	// requires TLS (its greeting says so before any plaintext is read).
	conn, err := net.DialTimeout("tcp", net.JoinHostPort(c.master, strconv.Itoa(h.port)), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	greeting, _ := bufio.NewReader(conn).ReadString('\n')
	conn.Close()
	if !strings.Contains(greeting, `"tls_required":true`) {
		t.Errorf("the master's NATS does not require TLS in distributed mode: %q", greeting)
	}
	// start again: every worker is left as it is.
	if r := h.console("start"); r.code != 0 || len(regexp.MustCompile(`(?m) OK +\S+ +already running$`).FindAllString(r.stdout, -1)) != 3 {
		t.Errorf("second start: %s", r)
	}

	out := h.waitState(failJob, "Succeed", 3*time.Minute)
	c.d.verify(t, files)
	// Work was shared: the tasks were done by more than one worker.
	byWorker := map[string]int{}
	for _, w := range h.taskWorkers(failJob) {
		byWorker[w]++
	}
	if len(byWorker) < 2 {
		t.Errorf("all tasks ran on %v; want them spread over the hosts\n%s", byWorker, out)
	}
	h.waitFor(30*time.Second, "every worker recorded alive", func() bool {
		ws := c.workers()
		for _, name := range append([]string{c.master}, c.hosts[0].IP, c.hosts[1].IP, c.hosts[2].IP) {
			if !ws[name].Alive {
				return false
			}
		}
		return true
	})

	// stat shows every host's worker.
	st := h.console("stat")
	for _, name := range []string{c.master, c.hosts[0].IP, c.hosts[1].IP, c.hosts[2].IP} {
		if !strings.Contains(st.stdout, "Worker:"+name+" State:alive ") {
			t.Errorf("stat lacks worker %s alive:\n%s", name, st.stdout)
		}
	}

	r = h.console("stop")
	if r.code != 0 || !strings.Contains(r.stdout, "Stop import service completed.") || !strings.Contains(r.stdout, "workers stopped on 3 of 3 hosts") {
		t.Fatalf("stop: %s%s", r, c.hostLogs())
	}
	for i := range c.hosts {
		if pid := c.workerPid(i); pid != 0 {
			t.Errorf("%s: worker (pid %d) still runs after stop", c.hosts[i].Name, pid)
		}
		if data, _ := os.ReadFile(filepath.Join(c.hostDir[i], "logs", "worker.log")); strings.Contains(string(data), strings.TrimSpace(string(token))) {
			t.Errorf("%s: the token is in worker.log", c.hosts[i].Name)
		}
	}
}

// TestDistributedHostLoss adds a host while a job runs, then cuts one
// host's link and kills another's worker: the job finishes on the
// remaining hosts with every object verified, and the cut host rejoins
// when its link comes back.
func TestDistributedHostLoss(t *testing.T) {
	c := newTestCluster(t, 3, "workerMaxThroughput(KB/s)=16\n", "") // about a minute: the added host joins, under load too, before the end
	h := c.h
	files := h.writeFiles(h.src, 300, 9000, 0)
	// Start with the master and two hosts.
	workers := filepath.Join(h.dir, "conf", "workers")
	h.write(workers, strings.Join([]string{c.master, c.hosts[0].IP, c.hosts[1].IP}, "\n")+"\n")
	if r := h.console("deploy"); r.code != 0 || !strings.Contains(r.stdout, "deployed to 2 of 2 hosts") {
		t.Fatalf("deploy: %s", r)
	}
	h.mustConsole("", "submit", h.job)
	if r := h.console("start"); r.code != 0 || strings.Count(r.stdout, " started") != 2 {
		t.Fatalf("start: %s%s", r, c.hostLogs())
	}

	// A third host joins the running job.
	h.write(workers, strings.Join([]string{c.master, c.hosts[0].IP, c.hosts[1].IP, c.hosts[2].IP}, "\n")+"\n")
	if r := h.console("deploy"); r.code != 0 || !strings.Contains(r.stdout, "deployed to 3 of 3 hosts") {
		t.Fatalf("deploy of the added host: %s", r)
	}
	r := h.console("start")
	if r.code != 0 || strings.Count(r.stdout, " started") != 1 || strings.Count(r.stdout, "already running") < 2 {
		t.Fatalf("start with the added host: %s%s", r, c.hostLogs())
	}
	h.waitFor(time.Minute, "the added host takes a task", func() bool {
		for _, w := range h.taskWorkers(failJob) {
			if w == c.hosts[2].IP {
				return true
			}
		}
		return false
	})
	if st := h.console("stat", failJob); strings.Contains(st.stdout, "JobState:Succeed") {
		t.Fatalf("the job finished before the hosts were lost; slow it down:\n%s", st.stdout)
	}

	// host1's link is cut, host2's worker is killed.
	c.hosts[0].LinkDown(t)
	linkUp := false
	defer func() {
		if !linkUp {
			c.hosts[0].LinkUp(t)
		}
	}()
	pid := c.workerPid(1)
	if pid == 0 {
		t.Fatalf("host2 runs no worker")
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}

	h.waitState(failJob, "Succeed", 4*time.Minute)
	c.d.verify(t, files)
	h.checkKeysOnce(failJob, files)

	// The lost hosts show as not alive; the cut host rejoins when its link
	// comes back.
	h.waitFor(time.Minute, "the lost workers recorded as not alive", func() bool {
		ws := c.workers()
		return !ws[c.hosts[0].IP].Alive && !ws[c.hosts[1].IP].Alive && ws[c.hosts[2].IP].Alive
	})
	c.hosts[0].LinkUp(t)
	linkUp = true
	h.waitFor(2*time.Minute, "the cut host rejoins", func() bool { return c.workers()[c.hosts[0].IP].Alive })
	// start brings back the killed worker and leaves the others alone.
	r = h.console("start")
	if r.code != 0 || strings.Count(r.stdout, " started") != 1 || strings.Count(r.stdout, "already running") < 2 {
		t.Fatalf("start after the losses: %s%s", r, c.hostLogs())
	}
	if r := h.console("stop"); r.code != 0 || !strings.Contains(r.stdout, "workers stopped on 3 of 3 hosts") {
		t.Fatalf("stop: %s%s", r, c.hostLogs())
	}
}

// TestDistributedDeployErrors: an unplugged host, a changed host key and
// a master port the workers cannot reach each give a clear error for that
// host alone.
func TestDistributedDeployErrors(t *testing.T) {
	c := newTestCluster(t, 3, "natsListen=127.0.0.1\n", "")
	h := c.h
	// host2's recorded key is another host's.
	known := filepath.Join(filepath.Dir(c.hostDir[0]), "known_hosts")
	data, err := os.ReadFile(known)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	_, key1, _ := strings.Cut(lines[0], " ")
	host2, _, _ := strings.Cut(lines[1], " ")
	lines[1] = host2 + " " + key1
	h.write(known, strings.Join(lines, "\n")+"\n")
	c.hosts[2].LinkDown(t)
	defer c.hosts[2].LinkUp(t)

	r := h.console("deploy")
	if r.code != 1 || !strings.Contains(r.stdout, "deployed to 1 of 3 hosts; 2 FAILED") {
		t.Fatalf("deploy: want 1 of 3 deployed and exit 1, got %s", r)
	}
	for _, want := range []string{c.hosts[0].IP + ":22  OK", c.hosts[1].IP + ":22  FAILED", "host key", c.hosts[2].IP + ":22  FAILED", "no answer"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("deploy output lacks %q:\n%s", want, r.stdout)
		}
	}

	// NATS listens on loopback only: host1's worker cannot reach it.
	// host3, back on the network, was never deployed to.
	c.hosts[2].LinkUp(t)
	h.mustConsole("", "submit", h.job)
	r = h.console("start")
	if r.code != 1 || !strings.Contains(r.stdout, "Start import service completed.") {
		t.Fatalf("start: want the service started and exit 1, got %s", r)
	}
	for _, want := range []string{"the worker exited right after it started", "cannot reach the master's NATS at tls://127.0.0.1:",
		"ossimport is not deployed in " + h.dir + " on this host: run `console.sh deploy` first"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("start output lacks %q:\n%s%s", want, r.stdout, c.hostLogs())
		}
	}
	if strings.Contains(r.stdout+r.stderr, c.secret) {
		t.Errorf("workerPassword in the output")
	}
}
