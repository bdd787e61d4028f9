package console

// The harness of the service tests: a real ossimport binary, built once,
// run as real processes against a temporary OSS_IMPORT_HOME.

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/service"
	"github.com/ossimport/ossimport/internal/testenv"
	"github.com/ossimport/ossimport/internal/workdir"
)

// raceEnabled is set by race_test.go under -race.
var raceEnabled bool

// ossimportBin is the binary TestMain built; empty with -short.
var ossimportBin string

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(func() int {
		if !testing.Short() {
			dir, err := os.MkdirTemp("", "ossimport-bin-")
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			defer os.RemoveAll(dir)
			ossimportBin = filepath.Join(dir, "ossimport")
			args := []string{"build", "-o", ossimportBin}
			if raceEnabled {
				args = append(args, "-race")
			}
			args = append(args, "github.com/ossimport/ossimport/cmd/ossimport")
			if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "go build ossimport: %v\n%s", err, out)
				return 1
			}
		}
		return m.Run()
	}())
}

// testHome is an installation: bin/ossimport, conf/sys.properties (the
// working directory is the home itself, as in ossimport's standalone
// package) and conf/local_job.cfg copying src into dst.
type testHome struct {
	t        *testing.T
	dir      string
	src, dst string
	port     int
	sys, job string
}

// newTestHome makes an installation; sysExtra and jobExtra are appended
// to sys.properties and local_job.cfg.
func newTestHome(t *testing.T, sysExtra, jobExtra string) *testHome {
	t.Helper()
	if testing.Short() {
		t.Skip("starts real service processes")
	}
	h := &testHome{t: t, dir: t.TempDir(), src: t.TempDir(), dst: t.TempDir(), port: testenv.LoopbackPort(t)}
	h.sys = filepath.Join(h.dir, "conf", "sys.properties")
	h.job = filepath.Join(h.dir, "conf", "local_job.cfg")
	for _, d := range []string{"bin", "conf"} {
		if err := os.MkdirAll(filepath.Join(h.dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(ossimportBin, filepath.Join(h.dir, "bin", "ossimport")); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sysExtra, "httpListen=") {
		// Each home its own dashboard port: a busy httpListen stops start.
		sysExtra = fmt.Sprintf("httpListen=127.0.0.1:%d\n%s", testenv.LoopbackPort(t), sysExtra)
	}
	h.write(h.sys, fmt.Sprintf("workingDir=.\nnatsPort=%d\ntaskAckWait=10\ntaskMaxDeliver=3\nworkerTaskThreadNum=4\njavaHeapMaxSize=256m\n%s", h.port, sysExtra))
	h.writeJob(h.job, "local_test", h.src, h.dst, jobExtra)
	t.Cleanup(h.cleanup)
	return h
}

func (h *testHome) write(path, content string) {
	h.t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

// writeJob writes a local -> local job file.
func (h *testHome) writeJob(path, name, src, dst, extra string) {
	h.write(path, fmt.Sprintf("jobName=%s\njobType=import\nsrcType=local\nsrcPrefix=%s/\ndestType=local\ndestBucket=%s\n"+
		"taskObjectCountLimit=50\nmultipartUploadThreshold=2m\nmultipartUploadPartSize=1m\n%s", name, src, dst, extra))
}

// writeFiles fills dir with n small files (size grows with i) and, if
// big > 0, one file of big bytes; it returns them by relative path.
func (h *testHome) writeFiles(dir string, n, size, big int) map[string][]byte {
	h.t.Helper()
	rng := rand.New(rand.NewPCG(uint64(n), uint64(big)))
	files := map[string][]byte{}
	for i := range n {
		data := make([]byte, size+i)
		for j := range data {
			data[j] = byte(rng.UintN(256))
		}
		files[fmt.Sprintf("d%d/f%03d.txt", i%4, i)] = data
	}
	if big > 0 {
		data := make([]byte, big)
		for j := 0; j < big; j += 8 {
			v := rng.Uint64()
			for k := 0; k < 8 && j+k < big; k++ {
				data[j+k] = byte(v >> (8 * k))
			}
		}
		files["big/large.bin"] = data
	}
	for rel, data := range files {
		h.write(filepath.Join(dir, rel), string(data))
	}
	return files
}

// checkCopied compares every file byte for byte.
func (h *testHome) checkCopied(dst string, files map[string][]byte) {
	h.t.Helper()
	for rel, want := range files {
		got, err := os.ReadFile(filepath.Join(dst, rel))
		if err != nil || !bytes.Equal(got, want) {
			h.t.Fatalf("%s: copy missing or different (%v, %d bytes, want %d)", rel, err, len(got), len(want))
		}
	}
}

// result is what a process did.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// run runs a program in the home with OSS_IMPORT_HOME set (env adds to
// or overrides the environment), stdin as its input.
func (h *testHome) run(stdin string, env []string, name string, args ...string) result {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testenv.Scale(90*time.Second))
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = h.dir
	cmd.Env = append(childEnv("OSS_IMPORT_HOME="+h.dir), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if err != nil {
		if exit, ok := err.(*exec.ExitError); ok {
			r.code = exit.ExitCode()
		} else {
			h.t.Fatalf("%s %v: %v", name, args, err)
		}
	}
	return r
}

// childEnv is the environment of the processes the tests start: the
// test's own, without the variables the scripts read, plus set. A race
// binary otherwise sleeps a second at exit (GORACE atexit_sleep_ms).
func childEnv(set ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OSS_IMPORT_HOME=") && !strings.HasPrefix(kv, "IMPORT_POLL_SECONDS=") &&
			!strings.HasPrefix(kv, "IMPORT_MAX_RETRIES=") && !strings.HasPrefix(kv, "GORACE=") {
			env = append(env, kv)
		}
	}
	return append(append(env, strings.TrimSpace("GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=0")), set...)
}

// console runs `ossimport console <args> --sys conf/sys.properties`, as
// console.sh does.
func (h *testHome) console(args ...string) result {
	h.t.Helper()
	return h.run("", nil, ossimportBin, append(append([]string{"console"}, args...), "--sys", h.sys)...)
}

// mustConsole runs a console verb that must succeed with stdout want
// (when want is not empty).
func (h *testHome) mustConsole(want string, args ...string) result {
	h.t.Helper()
	r := h.console(args...)
	if r.code != 0 || (want != "" && r.stdout != want) {
		h.t.Fatalf("console %v: want exit 0 and %q, got %s%s", args, want, r, h.logs())
	}
	return r
}

func (h *testHome) workdir() workdir.Dir { return workdir.Dir(h.dir) }

// waitState polls `console stat job` until it shows JobState:<state>.
func (h *testHome) waitState(job, state string, timeout time.Duration) string {
	h.t.Helper()
	var r result
	testenv.WaitEvery(h.t, timeout, 200*time.Millisecond, fmt.Sprintf("job %s to reach %s", job, state), func() bool {
		r = h.console("stat", job)
		return strings.Contains(r.stdout, "JobState:"+state+"\n")
	}, func() string { return fmt.Sprintf("last stat: %s%s", r, h.logs()) })
	return r.stdout
}

// logs is the end of the service's logs, for failure messages.
func (h *testHome) logs() string {
	var b strings.Builder
	for _, name := range []string{workdir.ServiceLogFile, "master.log", "tracker.log", "worker.log"} {
		fmt.Fprintf(&b, "\n--- logs/%s (end) ---\n%s\n", name, service.TailFile(filepath.Join(h.dir, "logs", name), 0, 30))
	}
	return b.String()
}

// servicePid is the running service's pid, or 0.
func (h *testHome) servicePid() int {
	if pid := service.ReadPid(h.workdir()); service.ProcessAlive(pid) {
		return pid
	}
	return 0
}

// cleanup stops a service left running and fails the test if the race
// detector reported anything in the service's output.
func (h *testHome) cleanup() {
	if pid := h.servicePid(); pid > 0 {
		h.console("stop", "--wait", "15s")
		if service.ProcessAlive(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if data, _ := os.ReadFile(filepath.Join(h.dir, "logs", workdir.ServiceLogFile)); bytes.Contains(data, []byte("DATA RACE")) {
		h.t.Errorf("the service reported a data race:\n%s", data)
	}
}

// taskDirs lists a job's task folders in a state.
func (h *testHome) taskDirs(job, state string) []string {
	return workdir.Subdirs(filepath.Join(h.workdir().Job(job), state))
}

// startRun starts `ossimport run` of the home's job in the background,
// its output kept in the returned buffer, for tests that kill it.
func (h *testHome) startRun() (*exec.Cmd, *syncBuffer) {
	h.t.Helper()
	cmd := exec.Command(ossimportBin, "run", h.job, "--sys", h.sys, "--progress", "0")
	cmd.Dir = h.dir
	cmd.Env = childEnv("OSS_IMPORT_HOME=" + h.dir)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	return cmd, out
}
