package service

import (
	"context"
	"fmt"
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

// WorkerPidPath is the pid file of worker name.
func WorkerPidPath(dir workdir.Dir, name string) string {
	safe := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, name)
	return filepath.Join(string(dir), "worker-"+safe+".pid")
}

// WorkerLock is a running worker's hold on its pid file.
type WorkerLock struct {
	f    *os.File
	path string
}

// LockWorker takes the pid-file lock of worker name and records this
// process's pid. When another live worker holds it, it returns nil and
// that worker's pid.
func LockWorker(dir workdir.Dir, name string) (*WorkerLock, int, error) {
	if err := os.MkdirAll(string(dir), 0o755); err != nil {
		return nil, 0, fmt.Errorf("create the working directory (check workingDir in sys.properties): %w", err)
	}
	p := WorkerPidPath(dir, name)
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
		return nil, ReadPidFile(p), nil
	}
	err = f.Truncate(0)
	if err == nil {
		_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	if err != nil {
		_ = f.Close()
		return nil, 0, fmt.Errorf("write the worker pid file %s: %w", p, err)
	}
	return &WorkerLock{f: f, path: p}, 0, nil
}

// Release removes the pid file and drops the lock.
func (l *WorkerLock) Release() {
	if l == nil || l.f == nil {
		return
	}
	_ = os.Remove(l.path)
	_ = l.f.Close()
	l.f = nil
}

// WorkerRunning returns the pid of the running worker name, 0 when none
// runs, -1 when one is starting (its pid not written yet).
func WorkerRunning(dir workdir.Dir, name string) (int, error) {
	p := WorkerPidPath(dir, name)
	if _, err := os.Stat(p); os.IsNotExist(err) {
		return 0, nil
	}
	l, pid, err := LockWorker(dir, name)
	if err != nil {
		return 0, err
	}
	if l != nil {
		l.Release() // nobody held it: not running
		return 0, nil
	}
	if pid == 0 {
		pid = -1 // locked, pid not written yet: starting
	}
	return pid, nil
}

// StopWorker asks the running worker name to stop (SIGTERM: it hands its
// tasks back) and waits up to wait for it to exit; then it kills it. It
// returns the worker's pid (0: none was running) and whether it had to be
// killed.
func StopWorker(ctx context.Context, dir workdir.Dir, name string, wait time.Duration) (pid int, killed bool, err error) {
	pid, err = WorkerRunning(dir, name)
	if err != nil || pid == 0 {
		return pid, false, err
	}
	if pid < 0 {
		return pid, false, fmt.Errorf("worker %s is starting (its pid file %s is locked but empty): try again", name, WorkerPidPath(dir, name))
	}
	if err := signalProcess(pid, syscall.SIGTERM); err != nil && ProcessAlive(pid) {
		return pid, false, fmt.Errorf("signal worker %s (pid %d): %w", name, pid, err)
	}
	if waitWorkerGone(ctx, dir, name, wait) {
		return pid, false, nil
	}
	if ctx.Err() != nil {
		return pid, false, ctx.Err()
	}
	if err := signalProcess(pid, syscall.SIGKILL); err != nil && ProcessAlive(pid) {
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
		if pid, err := WorkerRunning(dir, name); err == nil && pid == 0 {
			return true
		}
		if !time.Now().Before(deadline) || transfer.Sleep(ctx, pollEvery) != nil {
			return false
		}
	}
}
