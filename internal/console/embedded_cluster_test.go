package console

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/deploy"
	"github.com/ossimport/ossimport/internal/master"
	"github.com/ossimport/ossimport/internal/service"
	"github.com/ossimport/ossimport/internal/testenv"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/workdir"
)

// clusterService is one of the three services of natsEmbeddedCluster in
// the test: this machine's (host -1) or a member's over SSH.
type clusterService struct {
	name string
	host int // index in testCluster.hosts; -1 for this machine
	dir  workdir.Dir
}

func (s clusterService) pid() int {
	if pid := service.ReadPidFile(filepath.Join(string(s.dir), workdir.PidFile)); service.ProcessAlive(pid) {
		return pid
	}
	return 0
}

// leads reports whether the lease name is this service's.
func (s clusterService) leads(lease string) bool {
	pid := s.pid()
	return pid > 0 && strings.HasSuffix(lease, fmt.Sprintf("(pid %d)", pid))
}

// TestEmbeddedClusterOverSSH: with natsEmbeddedCluster, `console start`
// on the first host of conf/workers starts the NATS servers and standby
// services of the second and third over SSH (the token on standard
// input), and a worker on the fourth; state is replicated three times.
// The active master is then lost twice while the job copies, once by
// kill -9 and once by cutting its host's network link: each time another
// service takes over, `start` brings a killed service back, and the job
// ends Succeed with every object byte-identical at the destination, each
// key recorded once and no multipart upload left.
func TestEmbeddedClusterOverSSH(t *testing.T) {
	c := newTestCluster(t, 3, fmt.Sprintf("natsEmbeddedCluster=true\nnatsClusterPort=%d\nworkerMaxThroughput(KB/s)=24\n", testenv.LoopbackPort(t)), "")
	h := c.h
	// The task holding the 3 MiB file (at 24 KB/s) runs through both
	// losses, and each can cost it two deliveries: the hand-back of the
	// lost worker's claims, and the 10-second ack wait running out while
	// JetStream elects new leaders (about 10 s, during which the keepalive
	// of every running task fails). Five deliveries dead-lettered it in
	// one CI run; the dead-letter limit is not what this test is about.
	props, err := os.ReadFile(h.sys)
	if err != nil || !strings.Contains(string(props), "taskMaxDeliver=5\n") {
		t.Fatalf("the cluster's sys.properties has no taskMaxDeliver=5 to raise (%v)", err)
	}
	h.write(h.sys, strings.Replace(string(props), "taskMaxDeliver=5\n", "taskMaxDeliver=10\n", 1))
	svcs := []clusterService{{name: "this machine", host: -1, dir: h.workdir()}}
	for i := range 2 {
		svcs = append(svcs, clusterService{name: c.hosts[i].Name, host: i, dir: workdir.Dir(c.hostDir[i])})
	}
	t.Cleanup(func() {
		for _, s := range svcs[1:] {
			if pid := s.pid(); pid > 0 {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, s := range svcs {
			lv, err := master.ReadLeader(s.dir)
			t.Logf("--- %s (pid %d): LEADER %+v %v\n%s", s.name, s.pid(), lv, err, service.TailFile(filepath.Join(string(s.dir), "logs", "master.log"), 0, 40))
		}
	})
	files := h.writeFiles(h.src, 2000, 2500, 0)
	h.addBig(files, "big/multipart.bin", 3<<20, 7)

	if r := h.console("deploy"); r.code != 0 || !strings.Contains(r.stdout, "deployed to 3 of 3 hosts") {
		t.Fatalf("deploy: %s", r)
	}
	for i := range 2 {
		if _, err := os.Stat(filepath.Join(c.hostDir[i], deploy.RemoteWorkers)); err != nil {
			t.Fatalf("%s: conf/workers not deployed: %v", c.hosts[i].Name, err)
		}
	}
	// Before start no NATS server runs: submit says so.
	if r := h.console("submit", h.job); r.code == 0 || !strings.Contains(r.stderr, "start the service first with `console.sh start`") {
		t.Fatalf("submit before start: %s", r)
	}
	r := h.console("start")
	if r.code != 0 || !strings.Contains(r.stdout, "Start import service completed.") ||
		!strings.Contains(r.stdout, "NATS servers and standby services running on 2 of 2 hosts") ||
		!strings.Contains(r.stdout, "workers running on 1 of 1 hosts") || strings.Count(r.stdout, " started") != 3 {
		t.Fatalf("start: %s%s", r, c.hostLogs())
	}
	h.mustConsole("", "submit", h.job)
	token, err := os.ReadFile(h.workdir().Token())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range svcs[1:] {
		cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(s.pid()) + "/cmdline")
		if !strings.Contains(string(cmdline), "service\x00") || !strings.Contains(string(cmdline), "--token-file\x00-") ||
			strings.Contains(string(cmdline), strings.TrimSpace(string(token))) {
			t.Fatalf("%s: service command line %q: want a service reading the token from standard input", s.name, cmdline)
		}
		got, err := os.ReadFile(s.dir.Token())
		if err != nil || string(got) != string(token) {
			t.Fatalf("%s: its token file does not hold the first host's token (%v)", s.name, err)
		}
	}
	// Every stream and bucket has three replicas.
	ctx, cancel := context.WithTimeout(t.Context(), testenv.Scale(time.Minute))
	defer cancel()
	sys, _, err := config.LoadSys(h.sys)
	if err != nil {
		t.Fatal(err)
	}
	b, err := bus.Connect(ctx, service.Conn(sys, h.workdir(), "test"))
	if err != nil {
		t.Fatal(err)
	}
	reps, err := b.Replication(ctx)
	b.Close()
	if err != nil || len(reps) != len(bus.AssetStreams) {
		t.Fatalf("replication: %v %v", reps, err)
	}
	for _, rep := range reps {
		if rep.Replicas != 3 {
			t.Errorf("%s has %d replicas, want 3", rep.Stream, rep.Replicas)
		}
	}

	cut := -1 // the host whose link is down
	isCut := func(s clusterService) bool { return cut >= 0 && s.host == cut }
	defer func() {
		if cut >= 0 {
			c.hosts[cut].LinkUp(t)
		}
	}()
	// leader is the service holding the lease as the live, connected
	// services' views record it (-1 while none is recorded).
	leader := func() int {
		for _, v := range svcs {
			if v.pid() == 0 || isCut(v) {
				continue
			}
			lv, err := master.ReadLeader(v.dir)
			if err != nil || time.Since(lv.Seen) > 5*time.Second {
				continue
			}
			for i, s := range svcs {
				if s.leads(lv.Name) && !isCut(s) {
					return i
				}
			}
		}
		return -1
	}
	// done is how many objects a service's view has filed as done.
	done := func(v clusterService) int64 {
		st, _ := tracker.ReadStatus(v.dir, failJob)
		return st.Objects.Done
	}
	// lose takes the leader away (kill -9, or its link cut when it is a
	// member) and waits for another service to take over and file a
	// result; it returns whether the leader was killed.
	lose := func(round string, kill9 bool) (lost, took int, killed bool) {
		var l int
		h.waitFor(time.Minute, round+": a leader", func() bool { l = leader(); return l >= 0 })
		if st, _ := tracker.ReadStatus(h.workdir(), failJob); st.State == tracker.Succeed {
			t.Fatalf("%s: the job ended before the leader was lost; slow it down", round)
		}
		at := time.Now()
		killed = svcs[l].host < 0 || kill9 // this machine's link cannot be cut
		if killed {
			kill(t, svcs[l].pid())
		} else {
			cut = svcs[l].host
			c.hosts[cut].LinkDown(t)
		}
		var next int
		h.waitFor(time.Minute, round+": another service takes over", func() bool { next = leader(); return next >= 0 && next != l })
		after := time.Since(at)
		t.Logf("%s: %s lost by %s; %s took over after %v", round, svcs[l].name,
			map[bool]string{true: "kill -9", false: "link cut"}[killed], svcs[next].name, after.Round(time.Millisecond))
		if after > testenv.Scale(30*time.Second) {
			t.Errorf("%s: the takeover took %v; want it within the lease TTL and a few seconds", round, after)
		}
		return l, next, killed
	}
	// restore brings a killed service back with start, or plugs the cut
	// host back in.
	restore := func(round string, l int, killed bool) {
		if !killed {
			c.hosts[cut].LinkUp(t)
			cut = -1
			return
		}
		r := h.console("start")
		if r.code != 0 || strings.Count(r.stdout, " started") != map[bool]int{true: 0, false: 1}[svcs[l].host < 0] ||
			len(regexp.MustCompile(`already running`).FindAllString(r.stdout, -1)) < 2 {
			t.Fatalf("%s: start after the kill: %s%s", round, r, c.hostLogs())
		}
		h.waitFor(time.Minute, round+": the restarted service runs", func() bool { return svcs[l].pid() > 0 })
	}

	h.waitFor(2*time.Minute, "a sixth of the objects copied", func() bool { return done(svcs[0]) >= int64(len(files)/6) })
	l, next, killed := lose("first loss", false)
	// The new leader's view (this machine's may be the one killed).
	before := done(svcs[next])
	h.waitFor(2*time.Minute, "a result filed after the first takeover", func() bool { return done(svcs[next]) > before })
	restore("first loss", l, killed)
	l2, _, killed2 := lose("second loss", !killed)
	if killed2 == killed {
		t.Fatalf("both losses were by %v; want one kill -9 and one link cut", map[bool]string{true: "kill -9", false: "link cut"}[killed])
	}
	if svcs[l2].host < 0 {
		// this machine was killed: its view is what the test reads.
		restore("second loss", l2, killed2)
	}
	h.waitState(failJob, "Succeed", 5*time.Minute)
	if svcs[l2].host >= 0 {
		restore("second loss", l2, killed2)
	}
	c.d.verify(t, files)
	h.checkKeysOnce(failJob, files)
	c.d.noUploadsLeft(t)
	got, _ := tracker.ReadStatus(h.workdir(), failJob)
	n := int64(len(files))
	if got.Objects.Total != n || got.Objects.Done != n || got.Counters.Copied+got.Counters.Skipped != n || got.FailedObjs != 0 || got.Failed != 0 {
		t.Fatalf("this machine's view %+v: want %d objects planned and done once", got, n)
	}

	// With this machine's service gone, stat here reaches the cluster
	// through the other hosts: it names the master that leads there and
	// says that the view here is out of date; start brings it back.
	kill(t, svcs[0].pid())
	h.waitFor(time.Minute, "stat here to name the master on another host", func() bool {
		r := h.console("stat", failJob)
		master := statLine(r.stdout, "Master:")
		named := false
		for _, s := range svcs[1:] {
			named = named || (s.pid() > 0 && strings.Contains(master, fmt.Sprintf("(pid %d)", s.pid())))
		}
		return named && strings.Contains(r.stderr, "its view is out of date")
	})
	if r := h.console("start"); r.code != 0 || !strings.Contains(r.stdout, "Start import service completed.") {
		t.Fatalf("start after this machine's service was killed: %s%s", r, c.hostLogs())
	}

	r = h.console("stop")
	if r.code != 0 || !strings.Contains(r.stdout, "Stop import service completed.") ||
		!strings.Contains(r.stdout, "standby services stopped on 2 of 2 hosts") || !strings.Contains(r.stdout, "workers stopped on 1 of 1 hosts") {
		t.Fatalf("stop: %s%s", r, c.hostLogs())
	}
	for _, s := range svcs {
		if pid := s.pid(); pid > 0 {
			t.Errorf("%s: the service (pid %d) still runs after stop", s.name, pid)
		}
	}
}
