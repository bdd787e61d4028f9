package console

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/testenv"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// outageProxy forwards TCP connections to a server, and while it is down
// drops every connection: those open are cut and new ones are accepted
// and reset at once, as a destination in an outage would. It counts the
// connections it refused, so a test can pace on the clients' retries.
type outageProxy struct {
	ln      net.Listener
	target  string
	down    atomic.Bool
	refused atomic.Int64
	mu      sync.Mutex
	conns   map[net.Conn]bool
	wg      sync.WaitGroup
}

func newOutageProxy(t *testing.T, target string) *outageProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &outageProxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	p.wg.Go(p.serve)
	t.Cleanup(func() {
		ln.Close()
		p.cut()
		p.wg.Wait()
	})
	return p
}

// Endpoint is the proxy's http:// address.
func (p *outageProxy) Endpoint() string { return "http://" + p.ln.Addr().String() }

func (p *outageProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.down.Load() {
			p.refused.Add(1)
			reset(c)
			continue
		}
		p.wg.Go(func() { p.forward(c) })
	}
}

func (p *outageProxy) forward(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		reset(c)
		return
	}
	if !p.track(c, up) {
		return
	}
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = io.Copy(up, c); up.(*net.TCPConn).CloseWrite() })
	_, _ = io.Copy(c, up)
	c.(*net.TCPConn).CloseWrite()
	wg.Wait()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
	c.Close()
	up.Close()
}

// track registers a forwarded pair, unless the proxy went down meanwhile.
func (p *outageProxy) track(c, up net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down.Load() {
		reset(c)
		up.Close()
		return false
	}
	p.conns[c], p.conns[up] = true, true
	return true
}

// setDown starts (true) or ends an outage; starting one cuts every open
// connection.
func (p *outageProxy) setDown(down bool) {
	p.mu.Lock()
	p.down.Store(down)
	p.mu.Unlock()
	if down {
		p.cut()
	}
}

func (p *outageProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		reset(c)
	}
}

// reset closes c with a TCP reset.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

// TestRunSurvivesDestinationOutage: a destination that drops every
// connection for 20 seconds in the middle of a job (a proxy in front of
// versitygw) fails no object: the workers retry within their budget
// (workerRetryBudget=60) and the job ends with every object byte for
// byte, no failed task and no unfinished upload.
func TestRunSurvivesDestinationOutage(t *testing.T) {
	h, d := newS3Home(t, "workerRetryBudget=60\nworkerMaxThroughput(KB/s)=256\nlogLevel=debug\n", "taskObjectCountLimit=20\n")
	proxy := newOutageProxy(t, strings.TrimPrefix(d.srv.Endpoint, "http://"))
	job := readFile(t, h.job)
	h.write(h.job, strings.Replace(job, "destDomain="+d.srv.Endpoint, "destDomain="+proxy.Endpoint(), 1))
	files := h.writeFiles(h.src, 240, 16<<10, 3<<20)

	cmd, out := h.startRun()
	exited := make(chan struct{})
	var exitErr error
	go func() { exitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	done := func() int64 {
		st, _ := tracker.ReadStatus(h.workdir(), failJob)
		return st.Objects.Done
	}
	testenv.Wait(t, time.Minute, "the run to finish some objects", func() bool { return done() >= 20 }, h.logs)
	proxy.setDown(true)
	down := time.Now()
	before := done()
	// The outage lasts 20 s and at least 20 refused connections (the
	// workers kept retrying through it) — far longer than the 2–4 s the
	// old retries lasted.
	testenv.Wait(t, time.Minute, "an outage of 20 s and 20 refused connections", func() bool {
		return time.Since(down) >= 20*time.Second && proxy.refused.Load() >= 20
	}, h.logs)
	during := done() - before
	proxy.setDown(false)
	if during > 4*20 { // tasks finishing objects already read may file a few
		t.Logf("%d objects were filed during the outage", during)
	}
	select {
	case <-exited:
		if exitErr != nil {
			t.Fatalf("run after the outage: %v\n%s\n%s", exitErr, out.String(), h.logs())
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("the run did not end after the outage\n%s", h.logs())
	}
	if done() >= int64(len(files)) && proxy.refused.Load() == 0 {
		t.Fatal("no connection was refused: the outage missed the job")
	}
	st, err := tracker.ReadStatus(h.workdir(), failJob)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != tracker.Succeed || st.Counters.Failed != 0 || st.Objects.Done != int64(len(files)) {
		t.Fatalf("after the outage: state %s, %d failed, %d of %d done\n%s", st.State, st.Counters.Failed, st.Objects.Done, len(files), out.String())
	}
	d.verify(t, files)
	d.noUploadsLeft(t)
	if log := readLog(t, h, "worker.log"); !strings.Contains(log, "temporary error, retrying") {
		t.Error("worker.log has no retry at debug level")
	}
	t.Logf("outage: %s, %d connections refused, %d objects", time.Since(down).Round(time.Second), proxy.refused.Load(), len(files))
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestRunKilledTenTimesKeepsEveryRecord: `ossimport run` of a few
// thousand small files, killed with SIGKILL ten times at different points
// of the job (paced on the job's counters) and then run to completion,
// leaves every object with exactly one line in the audit logs of the
// finished tasks, and every destination file equal to its source.
func TestRunKilledTenTimesKeepsEveryRecord(t *testing.T) {
	const n, kills = 2000, 10
	h := newTestHome(t, "workerMaxThroughput(KB/s)=400\n", "")
	files := h.writeFiles(h.src, n, 200, 0)
	done := func() int64 {
		st, _ := tracker.ReadStatus(h.workdir(), "local_test")
		return st.Objects.Done
	}
	killed := 0
	for i := 1; i <= kills; i++ {
		cmd, _ := h.startRun()
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		// Kill i at about i/(kills+1) of the job, a little later each
		// time so that the kills land at different stages of a task.
		target := int64(n) * int64(i) / (kills + 1)
		finished := false
		testenv.Wait(t, 2*time.Minute, fmt.Sprintf("run %d to reach %d objects", i, target), func() bool {
			select {
			case err := <-exited:
				exited <- err
				finished = true
				return true
			default:
			}
			return done() >= target
		}, h.logs)
		if finished {
			t.Logf("run %d ended before its kill: %v", i, <-exited)
			break
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-exited
		killed++
	}
	r := h.run("", nil, ossimportBin, "run", h.job, "--sys", h.sys, "--progress", "0")
	if r.code != 0 {
		t.Fatalf("run after %d kills: %s\n%s", killed, r, h.logs())
	}
	if killed < kills {
		t.Fatalf("only %d of %d kills landed before the job ended; slow it down", killed, kills)
	}
	h.checkCopied(h.dst, files)
	lines := map[string]int{}
	where := map[string][]string{}
	for _, state := range []string{workdir.Succeed, workdir.Failed} {
		for _, id := range h.taskDirs("local_test", state) {
			data := readFile(t, filepath.Join(h.workdir().Task("local_test", state, "", id), workdir.AuditFile))
			for line := range strings.Lines(data) {
				f := strings.Fields(line)
				if len(f) < 4 || f[2] != string(transfer.Succeed) {
					t.Errorf("task %s: unexpected audit line %q", id, line)
					continue
				}
				lines[f[3]]++
				where[f[3]] = append(where[f[3]], id+" "+f[0]+" "+f[1])
			}
		}
	}
	bad := 0
	for rel := range files {
		if lines[rel] != 1 {
			bad++
			if bad <= 10 {
				t.Errorf("%s has %d audit lines, want 1: %v", rel, lines[rel], where[rel])
			}
		}
	}
	if len(lines) != len(files) || bad > 0 {
		t.Fatalf("%d keys in the audit logs for %d files; %d keys without exactly one line", len(lines), len(files), bad)
	}
	t.Logf("%d kills, %d objects, each with one audit line", killed, n)
}

// TestRunRestoresDamagedTasks: `ossimport run` killed mid-job, then one
// finished task's TASK file is corrupted, another finished task's folder
// deleted and an unfinished task's TASK file corrupted: the next run
// restores them from the plan log (logging each by path), copies every
// object and ends Succeed with every object counted in exactly one task.
func TestRunRestoresDamagedTasks(t *testing.T) {
	const n = 400
	h := newTestHome(t, "workerMaxThroughput(KB/s)=200\n", "")
	files := h.writeFiles(h.src, n, 300, 0)
	cmd, _ := h.startRun()
	unfinished := func() []string {
		var dirs []string
		for _, id := range h.taskDirs("local_test", workdir.Pending) {
			dirs = append(dirs, h.workdir().Task("local_test", workdir.Pending, "", id))
		}
		for _, w := range workdir.Subdirs(filepath.Join(h.workdir().Job("local_test"), workdir.Dispatched)) {
			for _, id := range workdir.Subdirs(filepath.Join(h.workdir().Job("local_test"), workdir.Dispatched, w)) {
				dirs = append(dirs, h.workdir().Task("local_test", workdir.Dispatched, w, id))
			}
		}
		return dirs
	}
	testenv.Wait(t, 2*time.Minute, "two finished tasks and an unfinished one", func() bool {
		return len(h.taskDirs("local_test", workdir.Succeed)) >= 2 && len(unfinished()) >= 1
	}, h.logs)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	succeeded := h.taskDirs("local_test", workdir.Succeed)
	corrupt := []string{
		filepath.Join(h.workdir().Task("local_test", workdir.Succeed, "", succeeded[0]), workdir.TaskFile),
		filepath.Join(unfinished()[0], workdir.TaskFile),
	}
	for _, f := range corrupt {
		h.write(f, `{"id":"torn","objects":[{"k":"d0/f0`)
	}
	deleted := h.workdir().Task("local_test", workdir.Succeed, "", succeeded[1])
	if err := os.RemoveAll(deleted); err != nil {
		t.Fatal(err)
	}

	r := h.run("", nil, ossimportBin, "run", h.job, "--sys", h.sys, "--progress", "0")
	if r.code != 0 {
		t.Fatalf("run after the damage: %s\n%s", r, h.logs())
	}
	h.checkCopied(h.dst, files)
	h.checkKeysOnce("local_test", files)
	st, err := tracker.ReadStatus(h.workdir(), "local_test")
	if err != nil || st.State != tracker.Succeed || st.Objects.Done != n || st.Objects.Total != n {
		t.Fatalf("status after the repair: %s %d/%d %q (%v)", st.State, st.Objects.Done, st.Objects.Total, st.Reason, err)
	}
	master := readLog(t, h, "master.log")
	for _, f := range corrupt {
		if !strings.Contains(master, f) {
			t.Errorf("master.log does not name the damaged %s", f)
		}
	}
	if !strings.Contains(master, succeeded[1]) || !strings.Contains(master, "task folder missing") {
		t.Errorf("master.log does not report the deleted task %s", succeeded[1])
	}
}
