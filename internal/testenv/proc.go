package testenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// defaultStartTimeout bounds server start-up when the caller's context has no
// deadline.
const defaultStartTimeout = 60 * time.Second

// process is a server child process whose stdout and stderr go to a log file.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	logFile *os.File
	done    chan struct{}
	waitErr error
	stopped sync.Once
}

// startProcess starts argv in its own process group. The child gets SIGKILL
// if the test binary dies (Pdeathsig), so a timed-out or killed `go test`
// leaves no server behind.
func startProcess(name, logPath string, env []string, argv ...string) (*process, error) {
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin = nil
	cmd.Stdout = lf
	cmd.Stderr = lf
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = lf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, logFile: lf, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the process group, then SIGKILL after grace.
func (p *process) stop(grace time.Duration) {
	p.stopped.Do(func() {
		pgid := p.cmd.Process.Pid
		if !p.exited() {
			_ = syscall.Kill(-pgid, syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(grace):
				_ = syscall.Kill(-pgid, syscall.SIGKILL)
				<-p.done
			}
		}
		// Leftover children in the group (if any) go too.
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		_ = p.logFile.Close()
	})
}

// tail returns the last n lines of the log, for error messages.
func (p *process) tail(n int) string {
	return fileTail(p.logPath, n)
}

func fileTail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	defer f.Close()
	const max = 64 << 10
	if st, err := f.Stat(); err == nil && st.Size() > max {
		_, _ = f.Seek(st.Size()-max, io.SeekStart)
	}
	data, _ := io.ReadAll(f)
	s := strings.TrimSpace(string(data))
	if s == "" {
		return "(log is empty)"
	}
	return lastLines(s, n)
}

// errStartup describes a failed start, with the log tail.
func (p *process) errStartup(reason error) error {
	state := "still running"
	if p.exited() {
		state = fmt.Sprintf("exited: %v", p.waitErr)
	}
	return fmt.Errorf("%s did not become ready (%v; process %s); last lines of %s:\n%s",
		p.name, reason, state, p.logPath, p.tail(40))
}

// waitReady polls check until it succeeds, the process exits, or ctx ends.
func (p *process) waitReady(ctx context.Context, check func(context.Context) error) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultStartTimeout)
		defer cancel()
	}
	delay := 10 * time.Millisecond
	var last error
	for {
		if p.exited() {
			return p.errStartup(errors.New("server exited during start-up"))
		}
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		last = check(cctx)
		cancel()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return p.errStartup(fmt.Errorf("%w; last check: %v", ctx.Err(), last))
		case <-p.done:
		case <-time.After(delay):
		}
		if delay < 200*time.Millisecond {
			delay *= 2
		}
	}
}

// addrInUse reports whether a failed start looks like a lost port race.
func (p *process) addrInUse() bool {
	t := strings.ToLower(p.tail(40))
	return strings.Contains(t, "address already in use") || strings.Contains(t, "eaddrinuse")
}

// FreePort returns a TCP port that was free on host a moment ago, for a
// server a test starts on it. It is picked at random below the kernel's
// ephemeral range, where no outgoing connection and no listener on port
// 0 of another test binary can take it before the server binds it, and
// never twice in one process.
func FreePort(host string) (int, error) {
	lo, hi := portBand()
	ports.Lock()
	defer ports.Unlock()
	for range 200 {
		if hi <= lo {
			break
		}
		p := lo + mrand.IntN(hi-lo)
		if ports.given[p] {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p)))
		if err != nil {
			continue
		}
		_ = l.Close()
		ports.given[p] = true
		return p, nil
	}
	// No band below the ephemeral range (or no free port in it): let the
	// kernel choose.
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("testenv: find a free port on %s: %w", host, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// LoopbackPort is FreePort on 127.0.0.1 for a test, which it fails
// when no port is free.
func LoopbackPort(t testing.TB) int {
	t.Helper()
	p, err := FreePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// ports remembers the ports FreePort handed out in this process.
var ports = struct {
	sync.Mutex
	given map[int]bool
}{given: map[int]bool{}}

// portBand is where FreePort picks: the 12000 ports below the start of
// the ephemeral range (net.ipv4.ip_local_port_range), above 1024.
func portBand() (lo, hi int) {
	hi = 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				hi = n
			}
		}
	}
	return max(1025, hi-12000), hi
}

// makeWorkDir creates a fresh temporary directory for a server of the given
// kind, named ossimport-<kind>-<pid>-*, after removing such directories left
// by test processes that died before their cleanup ran.
func makeWorkDir(kind string) (string, error) {
	prefix := "ossimport-" + kind + "-"
	if matches, err := filepath.Glob(filepath.Join(os.TempDir(), prefix+"*-*")); err == nil {
		for _, m := range matches {
			rest := strings.TrimPrefix(filepath.Base(m), prefix)
			pidStr, _, ok := strings.Cut(rest, "-")
			pid, err := strconv.Atoi(pidStr)
			if !ok || err != nil || pid <= 0 {
				continue
			}
			if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
				_ = os.RemoveAll(m)
			}
		}
	}
	return os.MkdirTemp("", prefix+strconv.Itoa(os.Getpid())+"-")
}

// childEnv returns the current environment without variables matching any
// of dropPrefixes, plus extra.
func childEnv(dropPrefixes []string, extra ...string) []string {
	var env []string
next:
	for _, kv := range os.Environ() {
		for _, p := range dropPrefixes {
			if strings.HasPrefix(kv, p) {
				continue next
			}
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// startWithPortRetry starts a server on a free port, retrying with a new
// port when another process grabbed it first.
func startWithPortRetry(ctx context.Context, attempts int, start func(port int) (*process, error), ready func(ctx context.Context, port int) error, host string) (*process, int, error) {
	var lastErr error
	for i := 0; i < attempts; i++ {
		port, err := FreePort(host)
		if err != nil {
			return nil, 0, err
		}
		p, err := start(port)
		if err != nil {
			return nil, 0, err
		}
		err = p.waitReady(ctx, func(ctx context.Context) error { return ready(ctx, port) })
		if err == nil && !p.exited() {
			return p, port, nil
		}
		if err == nil {
			err = p.errStartup(errors.New("exited right after answering (port taken by another process?)"))
		}
		retry := p.exited() && p.addrInUse()
		p.stop(2 * time.Second)
		lastErr = err
		if !retry {
			break
		}
	}
	return nil, 0, lastErr
}

func itoa(i int) string { return strconv.Itoa(i) }

// stopFunc returns a function that stops p and removes its work folder,
// once however often it is called.
func stopFunc(p *process, work string) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			p.stop(5 * time.Second)
			_ = os.RemoveAll(work)
		})
	}
}
