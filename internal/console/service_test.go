package console

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/service"
	"github.com/ossimport/ossimport/internal/testenv"
	"github.com/ossimport/ossimport/internal/workdir"
)

const usageText = `Support command:
    submit: submit job
    start: start import service
    stop: stop import service
    clean: clean old job
    stat: stat job
    retry: retry all failed tasks
    version: ossimport version
    deploy: deploy ossimport to all workers
`

// TestServiceLifecycle is ossimport's order of work: submit while the
// service is stopped, start, stat until done, a refused resubmission,
// clean, submit again on the running service, stop.
func TestServiceLifecycle(t *testing.T) {
	// workerRecordMd5 turns local-to-local server-side copies off, so the
	// large file goes through a multipart upload.
	h := newTestHome(t, "workerRecordMd5=true\n", "")
	files := h.writeFiles(h.src, 300, 64, 5<<20)

	h.mustConsole("submit job:"+h.job+"\n", "submit", h.job)
	if h.servicePid() != 0 {
		t.Fatal("submit left a service running")
	}
	if out := h.mustConsole("", "stat").stdout; !strings.Contains(out, "JobName:local_test\nJobState:Running\n") {
		t.Fatalf("stat right after submit:\n%s", out)
	}

	h.mustConsole("Start import service completed.\n", "start")
	pid := h.servicePid()
	if pid == 0 {
		t.Fatalf("no live service after start%s", h.logs())
	}
	if fi, err := os.Stat(h.workdir().Pid()); err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("pid file: %v %v", fi, err)
	}
	if r := h.mustConsole("", "Start"); !strings.Contains(r.stdout, "already running") {
		t.Fatalf("second start: %s", r)
	}
	if r := h.run("", nil, ossimportBin, "service", "--sys", h.sys); r.code == 0 || !strings.Contains(r.stderr, fmt.Sprintf("in use by the import service (pid %d)", pid)) {
		t.Fatalf("a second service on the same working directory: %s", r)
	}
	if r := h.run("", nil, ossimportBin, "run", h.job, "--sys", h.sys); r.code != 1 || !strings.Contains(r.stderr, fmt.Sprintf("in use by the import service (pid %d)", pid)) {
		t.Fatalf("a run beside the service: %s", r)
	}

	h.waitState("local_test", "Succeed", 15*time.Second)
	h.checkCopied(h.dst, files)

	r := h.console("submit", h.job)
	if r.code != 1 || !strings.Contains(r.stderr, "Error: job local_test already exists, please clean it first\n") {
		t.Fatalf("duplicate submit: %s", r)
	}
	h.mustConsole("Clean job:local_test completed.\n", "clean", "local_test")
	if _, err := os.Stat(h.workdir().Job("local_test")); !os.IsNotExist(err) {
		t.Fatalf("clean left the job folder: %v", err)
	}

	// Submitted to the running service this time.
	h.mustConsole("submit job:"+h.job+"\n", "Submit", h.job)
	st := h.waitState("local_test", "Succeed", 15*time.Second)
	if !strings.Contains(st, "Objects:301/301 Failed:0\n") {
		t.Fatalf("stat after the resubmission:\n%s", st)
	}

	h.mustConsole("Stop import service completed.\n", "stop")
	if service.ProcessAlive(pid) {
		t.Fatalf("service pid %d still alive after stop", pid)
	}
	if _, err := os.Stat(h.workdir().Pid()); !os.IsNotExist(err) {
		t.Fatalf("pid file left after stop: %v", err)
	}
	h.mustConsole("Import service is not running.\n", "stop")
	if log := service.TailFile(filepath.Join(h.dir, "logs", workdir.ServiceLogFile), 0, 5); !strings.Contains(log, "ossimport service stopped") {
		t.Fatalf("the service did not stop gracefully:%s", h.logs())
	}
}

// TestStopStartResumes: a service stopped in the middle of a job hands
// its tasks back; started again, it finishes the job without running the
// finished tasks again. The source is an HTTP URL list whose server
// holds the objects of the last ten tasks until the test lets them go,
// so the job is still running when the service is stopped, however
// loaded the machine is.
func TestStopStartResumes(t *testing.T) {
	h := newTestHome(t, "workerTaskThreadNum=2\n", "")
	files := h.writeFiles(h.src, 200, 64, 0)
	var list strings.Builder
	keys := make([]string, 0, len(files))
	for rel := range files {
		keys = append(keys, rel)
	}
	sort.Strings(keys)
	held := map[string]bool{}
	gate := make(chan struct{})
	release := sync.OnceFunc(func() { close(gate) })
	srv := httptest.NewServer(heldFiles(http.FileServer(http.Dir(h.src)), held, gate))
	t.Cleanup(func() { release(); srv.Close() }) // Close waits for held requests
	for i, k := range keys {
		fmt.Fprintf(&list, "%s/ %s\n", srv.URL, k)
		if i >= 100 { // tasks 11 to 20 of 10 objects each
			held["/"+k] = true
		}
	}
	listFile := filepath.Join(h.dir, "conf", "urls.txt")
	h.write(listFile, list.String())
	h.write(h.job, fmt.Sprintf("jobName=local_test\njobType=import\nsrcType=http\nhttpListFilePath=%s\ndestType=local\ndestBucket=%s\ntaskObjectCountLimit=10\n", listFile, h.dst))
	h.mustConsole("", "submit", h.job)
	h.mustConsole("Start import service completed.\n", "start")

	h.waitFor(60*time.Second, "4 tasks done", func() bool { return len(h.taskDirs("local_test", workdir.Succeed)) >= 4 })
	h.mustConsole("Stop import service completed.\n", "stop")

	done := map[string]time.Time{}
	for _, id := range h.taskDirs("local_test", workdir.Succeed) {
		fi, err := os.Stat(filepath.Join(h.workdir().Task("local_test", workdir.Succeed, "", id), workdir.DoneFile))
		if err != nil {
			t.Fatal(err)
		}
		done[id] = fi.ModTime()
	}
	if len(done) > 10 {
		t.Fatalf("%d tasks finished while the objects of 10 of the 20 were held", len(done))
	}
	if out := h.mustConsole("", "stat", "local_test").stdout; strings.Contains(out, "JobState:Succeed") {
		t.Fatalf("stat of the stopped job:\n%s", out)
	}

	release()
	h.mustConsole("Start import service completed.\n", "start")
	h.waitState("local_test", "Succeed", 60*time.Second)
	h.mustConsole("Stop import service completed.\n", "stop")

	h.checkCopied(h.dst, files)
	if n := len(h.taskDirs("local_test", workdir.Succeed)); n != 20 {
		t.Fatalf("%d succeeded task folders, want 20", n)
	}
	for id, mtime := range done {
		fi, err := os.Stat(filepath.Join(h.workdir().Task("local_test", workdir.Succeed, "", id), workdir.DoneFile))
		if err != nil || !fi.ModTime().Equal(mtime) {
			t.Fatalf("task %s finished before the stop was run again (%v)", id, err)
		}
	}
}

// heldFiles serves next, except that a GET of a path in held waits until
// gate is closed (or the client gives up).
func heldFiles(next http.Handler, held map[string]bool, gate <-chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && held[r.URL.Path] {
			select {
			case <-gate:
			case <-r.Context().Done():
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// TestWorkerCommand: `ossimport worker` joins a running service with the
// token on its standard input, and stops on SIGTERM; a wrong token is
// refused clearly.
func TestWorkerCommand(t *testing.T) {
	h := newTestHome(t, "", "")
	h.mustConsole("Start import service completed.\n", "start")
	token, err := os.ReadFile(h.workdir().Token())
	if err != nil {
		t.Fatal(err)
	}
	natsURL := "nats://127.0.0.1:" + strconv.Itoa(h.port)

	r := h.run("not-the-token\n", nil, ossimportBin, "worker", "--nats", natsURL, "--token-file", "-", "--sys", h.sys)
	if r.code != 1 || !strings.Contains(r.stderr, "refused the credentials") {
		t.Fatalf("worker with a wrong token: %s", r)
	}

	cmd := exec.Command(ossimportBin, "worker", "--nats", natsURL, "--token-file", "-", "--name", "extra-1", "--sys", h.sys)
	cmd.Dir, cmd.Stdin, cmd.Env = h.dir, bytes.NewReader(token), childEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	s, _, err := config.LoadSys(h.sys)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testenv.Scale(15*time.Second))
	defer cancel()
	b, err := bus.Connect(ctx, bus.ConnOptions{URLs: natsURL, Token: strings.TrimSpace(string(token))})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Setup(ctx, service.SetupOptions(s)); err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := b.Workers().Get(ctx, "extra-1"); err == nil {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("worker exited: %v\n%s", err, stderr.String())
		case <-ctx.Done():
			t.Fatalf("no heartbeat from the worker\n%s", stderr.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("worker stopped with %v\n%s", err, stderr.String())
		}
	case <-time.After(testenv.Scale(10 * time.Second)):
		t.Fatal("worker did not stop on SIGTERM")
	}
	h.mustConsole("Stop import service completed.\n", "stop")
}

// TestKilledService: a service that died without cleaning up (SIGKILL)
// leaves its pid file; the console sees it is not running (retry does its
// work itself instead of asking the dead service), and start replaces it.
func TestKilledService(t *testing.T) {
	h := newTestHome(t, "", "")
	h.mustConsole("Start import service completed.\n", "start")
	pid := h.servicePid()
	kill(t, pid)
	if service.ReadPid(h.workdir()) != pid {
		t.Fatal("a killed service should leave its pid file behind")
	}
	h.mustConsole("None failed tasks.\n", "retry")
	h.mustConsole("Start import service completed.\n", "start")
	if got := h.servicePid(); got == 0 || got == pid {
		t.Fatalf("pid after the restart: %d (killed %d)", got, pid)
	}
	h.mustConsole("Stop import service completed.\n", "stop")

	// Killed again, stop tidies up the pid file.
	h.mustConsole("Start import service completed.\n", "start")
	pid = h.servicePid()
	kill(t, pid)
	h.mustConsole("Import service is not running.\n", "stop")
	if _, err := os.Stat(h.workdir().Pid()); !os.IsNotExist(err) {
		t.Fatalf("stop left a stale pid file: %v", err)
	}
}

// kill SIGKILLs pid and waits until it is gone.
func kill(t *testing.T, pid int) {
	t.Helper()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	testenv.Wait(t, 10*time.Second, fmt.Sprintf("pid %d to be gone after SIGKILL", pid), func() bool { return !service.ProcessAlive(pid) })
}

// TestStartFailure: a service that cannot start (natsPort taken by
// another program) makes start fail with the end of its log.
func TestStartFailure(t *testing.T) {
	h := newTestHome(t, "", "")
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(h.port))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	r := h.console("start")
	if r.code != 1 || !strings.Contains(r.stderr, "Error: the import service exited while starting") ||
		!strings.Contains(r.stderr, "natsPort "+strconv.Itoa(h.port)+" is in use") {
		t.Fatalf("start with natsPort taken: %s", r)
	}
	if h.servicePid() != 0 {
		t.Fatal("a failed start left a service running")
	}
	if _, err := os.Stat(h.workdir().Pid()); !os.IsNotExist(err) {
		t.Fatalf("a failed start left its pid file: %v", err)
	}
}

// TestStopSignals: the service stops gracefully on SIGTERM; stop kills a
// service that does not answer and does not exit, with a warning.
func TestStopSignals(t *testing.T) {
	h := newTestHome(t, "", "")
	h.mustConsole("Start import service completed.\n", "start")
	pid := h.servicePid()
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	h.waitFor(15*time.Second, "the service to stop on SIGTERM", func() bool { return !service.ProcessAlive(pid) })
	if _, err := os.Stat(h.workdir().Pid()); !os.IsNotExist(err) {
		t.Fatalf("pid file left after SIGTERM: %v", err)
	}
	if log := service.TailFile(filepath.Join(h.dir, "logs", workdir.ServiceLogFile), 0, 5); !strings.Contains(log, "ossimport service stopped") {
		t.Fatalf("the service did not stop gracefully on SIGTERM:%s", h.logs())
	}

	h.mustConsole("Start import service completed.\n", "start")
	pid = h.servicePid()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil { // frozen: answers nothing
		t.Fatal(err)
	}
	r := h.console("stop", "--wait", "1s")
	if r.code != 0 || r.stdout != "Stop import service completed.\n" ||
		!strings.Contains(r.stderr, "Warning: the service did not answer the stop request") ||
		!strings.Contains(r.stderr, "did not stop within 1s; killing it") {
		t.Fatalf("stop of a frozen service: %s", r)
	}
	if service.ProcessAlive(pid) {
		t.Fatal("stop left the frozen service alive")
	}
	if _, err := os.Stat(h.workdir().Pid()); !os.IsNotExist(err) {
		t.Fatalf("stop left the killed service's pid file: %v", err)
	}
}

// TestStartRefusesABusyHTTPListen: a dashboard port another program holds
// fails start with the key and the fix, instead of a "completed" start
// whose dashboard is someone else's page.
func TestStartRefusesABusyHTTPListen(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	h := newTestHome(t, "httpListen="+ln.Addr().String()+"\n", "")
	r := h.console("start")
	if r.code == 0 || !strings.Contains(r.stdout+r.stderr, "httpListen "+ln.Addr().String()+" is in use by another program") {
		t.Fatalf("start with a busy httpListen: %s%s", r, h.logs())
	}
	if pid := h.servicePid(); pid != 0 && service.ProcessAlive(pid) {
		t.Fatalf("a service (pid %d) runs after the refused start", pid)
	}
}

// TestRebuildVerb: `console rebuild` refuses while the service runs and,
// with it stopped, rebuilds the view from the journal: stat shows the
// same job, and the previous view is kept aside.
func TestRebuildVerb(t *testing.T) {
	h := newTestHome(t, "", "")
	files := h.writeFiles(h.src, 30, 64, 0)
	if r := h.run("", nil, ossimportBin, "run", h.job, "--sys", h.sys); r.code != 0 {
		t.Fatalf("run: %s", r)
	}
	h.checkCopied(h.dst, files)
	before := h.mustConsole("", "stat", "local_test").stdout
	h.mustConsole("Start import service completed.\n", "start")
	if r := h.console("rebuild"); r.code != 1 || !strings.Contains(r.stderr, "stop it first (console.sh stop), then rebuild") {
		t.Fatalf("rebuild beside the service: %s", r)
	}
	h.mustConsole("Stop import service completed.\n", "stop")
	r := h.mustConsole("", "rebuild")
	if !strings.Contains(r.stdout, "Rebuilt the view of 1 jobs from ") || !strings.Contains(r.stdout, "jobs.before-rebuild-") {
		t.Fatalf("rebuild: %s", r)
	}
	after := h.mustConsole("", "stat", "local_test").stdout
	for _, line := range []string{"JobState:Succeed\n", "Succeed Task Count:1\n", "Objects:30/30 Failed:0\n"} {
		if !strings.Contains(before, line) || !strings.Contains(after, line) {
			t.Errorf("stat before the rebuild:\n%s\nafter:\n%s\nwant %q in both", before, after, line)
		}
	}
	aside, _ := filepath.Glob(filepath.Join(h.dir, "master", "jobs.before-rebuild-*", "local_test"))
	if len(aside) != 1 {
		t.Errorf("the previous view is not kept aside: %q", aside)
	}
}
