package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// A worker process holds an exclusive lock on its pid file,
// <workingDir>/worker-<name>.pid, while it runs: the kernel drops the lock
// however the process ends, so a stale file never makes a dead worker
// look alive, and a second worker of the same name on the same working
// directory is refused. `console start` and `console stop` use it over
// SSH (`ossimport worker --status` and `--stop`).

// Exit statuses of `ossimport worker --status`.
const (
	workerRunningStatus = 0
	workerStoppedStatus = 3
)

func workerPidPath(dir workdir.Dir, name string) string {
	safe := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, name)
	return filepath.Join(string(dir), "worker-"+safe+".pid")
}

type workerLock struct {
	f    *os.File
	path string
}

// lockWorker takes the pid-file lock of worker name and records this
// process's pid. When another live worker holds it, it returns nil and
// that worker's pid.
func lockWorker(dir workdir.Dir, name string) (*workerLock, int, error) {
	if err := os.MkdirAll(string(dir), 0o755); err != nil {
		return nil, 0, fmt.Errorf("create the working directory (check workingDir in sys.properties): %w", err)
	}
	p := workerPidPath(dir, name)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, 0, fmt.Errorf("open the worker pid file: %w", err)
	}
	locked, err := lockExclusive(f)
	if err != nil {
		_ = f.Close()
		return nil, 0, fmt.Errorf("lock the worker pid file %s: %w", p, err)
	}
	if !locked {
		_ = f.Close()
		return nil, readPidFile(p), nil
	}
	err = f.Truncate(0)
	if err == nil {
		_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	if err != nil {
		_ = f.Close()
		return nil, 0, fmt.Errorf("write the worker pid file %s: %w", p, err)
	}
	return &workerLock{f: f, path: p}, 0, nil
}

// release removes the pid file and drops the lock.
func (l *workerLock) release() {
	if l == nil || l.f == nil {
		return
	}
	_ = os.Remove(l.path)
	_ = l.f.Close()
	l.f = nil
}

func readPidFile(p string) int {
	data, err := os.ReadFile(p)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

// workerRunning returns the pid of the running worker name, or 0.
func workerRunning(dir workdir.Dir, name string) (int, error) {
	p := workerPidPath(dir, name)
	if _, err := os.Stat(p); os.IsNotExist(err) {
		return 0, nil
	}
	l, pid, err := lockWorker(dir, name)
	if err != nil {
		return 0, err
	}
	if l != nil {
		l.release() // nobody held it: not running
		return 0, nil
	}
	if pid == 0 {
		pid = -1 // locked, pid not written yet: starting
	}
	return pid, nil
}

// stopWorker asks the running worker name to stop (SIGTERM: it hands its
// tasks back) and waits up to wait for it to exit; then it kills it. It
// returns the worker's pid (0: none was running) and whether it had to be
// killed.
func stopWorker(ctx context.Context, dir workdir.Dir, name string, wait time.Duration) (pid int, killed bool, err error) {
	pid, err = workerRunning(dir, name)
	if err != nil || pid == 0 {
		return pid, false, err
	}
	if pid < 0 {
		return pid, false, fmt.Errorf("worker %s is starting (its pid file %s is locked but empty): try again", name, workerPidPath(dir, name))
	}
	if err := signalProcess(pid, syscall.SIGTERM); err != nil && processAlive(pid) {
		return pid, false, fmt.Errorf("signal worker %s (pid %d): %w", name, pid, err)
	}
	if waitWorkerGone(ctx, dir, name, wait) {
		return pid, false, nil
	}
	if ctx.Err() != nil {
		return pid, false, ctx.Err()
	}
	if err := signalProcess(pid, syscall.SIGKILL); err != nil && processAlive(pid) {
		return pid, false, fmt.Errorf("kill worker %s (pid %d): %w", name, pid, err)
	}
	if !waitWorkerGone(ctx, dir, name, 10*time.Second) {
		return pid, true, fmt.Errorf("worker %s (pid %d) still runs after SIGKILL", name, pid)
	}
	return pid, true, nil
}

// waitWorkerGone waits up to wait for worker name to exit.
func waitWorkerGone(ctx context.Context, dir workdir.Dir, name string, wait time.Duration) bool {
	deadline := time.Now().Add(wait)
	for {
		if pid, err := workerRunning(dir, name); err == nil && pid == 0 {
			return true
		}
		if !time.Now().Before(deadline) || transfer.Sleep(ctx, pollEvery) != nil {
			return false
		}
	}
}

// workerControl is `ossimport worker --status` and `--stop`.
func workerControl(ctx context.Context, stderr io.Writer, dir workdir.Dir, f workerFlags) error {
	if f.name == "" {
		return &ExitError{Code: 2, Err: errors.New("--status and --stop need the worker's --name")}
	}
	if f.status {
		pid, err := workerRunning(dir, f.name)
		if err != nil {
			return &ExitError{Code: 2, Err: err}
		}
		if pid == 0 {
			fmt.Fprintf(stderr, "worker %s is not running in %s\n", f.name, dir)
			return &ExitError{Code: workerStoppedStatus}
		}
		fmt.Fprintf(stderr, "worker %s is running in %s (pid %d)\n", f.name, dir, pid)
		return nil
	}
	pid, killed, err := stopWorker(ctx, dir, f.name, stopWait)
	switch {
	case err != nil:
		return &ExitError{Code: 1, Err: err}
	case pid == 0:
		fmt.Fprintf(stderr, "worker %s was not running\n", f.name)
	case killed:
		fmt.Fprintf(stderr, "worker %s (pid %d) did not stop within %s and was killed; its running tasks are redelivered after taskAckWait\n", f.name, pid, stopWait)
	default:
		fmt.Fprintf(stderr, "worker %s (pid %d) stopped\n", f.name, pid)
	}
	return nil
}
