package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// Deadlines of the console verbs.
const (
	// LockWait bounds waiting for another console command (or a service
	// starting or stopping) to release the store.
	LockWait = 30 * time.Second
	// StartWait bounds waiting for a started service to answer ping.
	StartWait = 30 * time.Second
	// StopWait bounds waiting for a stopped service to exit before it is
	// killed.
	StopWait = 60 * time.Second
	// pollEvery is how often those waits look again.
	pollEvery = 100 * time.Millisecond
)

// ErrNotRunning is the answer of verbs that need the service.
var ErrNotRunning = errors.New("the service is not running: start it first with `console.sh start`")

// errStoreBusy: the store stayed locked by a process that is not a
// running service.
var errStoreBusy = errors.New("the NATS store is in use by another ossimport command")

// Lock is the exclusive lock on the NATS store folder. The kernel
// releases it when its holder exits, however it exits, so a stale pid
// file never makes a dead service look alive.
type Lock struct{ f *os.File }

// tryLock takes the store lock, or returns nil when another process
// holds it.
func tryLock(dir workdir.Dir) (*Lock, error) {
	if err := os.MkdirAll(string(dir), 0o755); err != nil {
		return nil, fmt.Errorf("create the working directory (check workingDir in sys.properties): %w", err)
	}
	if err := os.MkdirAll(dir.NATS(), 0o700); err != nil {
		return nil, fmt.Errorf("create the NATS store folder (check workingDir in sys.properties): %w", err)
	}
	f, err := os.Open(dir.NATS())
	if err != nil {
		return nil, fmt.Errorf("open the NATS store folder: %w", err)
	}
	locked, err := lockExclusive(f)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("lock the NATS store folder %s: %w", dir.NATS(), err)
	}
	if !locked {
		_ = f.Close()
		return nil, nil
	}
	return &Lock{f: f}, nil
}

// Release gives the lock up; a nil lock is fine.
func (l *Lock) Release() {
	if l != nil && l.f != nil {
		_ = l.f.Close()
		l.f = nil
	}
}

// Probe tells whether the service of dir runs: it returns the service's
// pid, or 0 and the store lock, held so that no service starts before
// the caller releases it. While another process holds the lock without
// being a running service (a console command using the store, a service
// starting or stopping), it waits up to wait.
func Probe(ctx context.Context, dir workdir.Dir, wait time.Duration) (int, *Lock, error) {
	deadline := time.Now().Add(wait)
	for {
		lock, err := tryLock(dir)
		if err != nil {
			return 0, nil, err
		}
		if lock != nil {
			return 0, lock, nil
		}
		if pid := ReadPid(dir); ProcessAlive(pid) {
			return pid, nil, nil
		}
		if !time.Now().Before(deadline) {
			return 0, nil, fmt.Errorf("%w (%s is locked; a service starting or stopping, or a submit or clean running): try again", errStoreBusy, dir.NATS())
		}
		if err := transfer.Sleep(ctx, pollEvery); err != nil {
			return 0, nil, err
		}
	}
}

// waitStopped waits until no process holds the store lock, up to wait.
func waitStopped(ctx context.Context, dir workdir.Dir, wait time.Duration) bool {
	deadline := time.Now().Add(wait)
	for {
		lock, err := tryLock(dir)
		if err == nil && lock != nil {
			lock.Release()
			return true
		}
		if !time.Now().Before(deadline) || transfer.Sleep(ctx, pollEvery) != nil {
			return false
		}
	}
}

// writePid records the service's pid (mode 0644, replaced atomically).
func writePid(dir workdir.Dir, pid int) error {
	tmp := dir.Pid() + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		return fmt.Errorf("write the pid file: %w", err)
	}
	if err := os.Rename(tmp, dir.Pid()); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write the pid file: %w", err)
	}
	return nil
}

// ReadPid returns the pid in the service's pid file, or 0.
func ReadPid(dir workdir.Dir) int { return ReadPidFile(dir.Pid()) }

// RemovePid deletes the pid file if it still names pid (0: whatever it
// names; only for a holder of the store lock).
func RemovePid(dir workdir.Dir, pid int) {
	if got := ReadPid(dir); pid == 0 || got == pid {
		_ = os.Remove(dir.Pid())
	}
}

// ReadPidFile returns the pid a pid file holds, or 0.
func ReadPidFile(p string) int {
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

// TailFile returns the last n lines of path written after offset (and
// within its last 64 KiB).
func TailFile(path string, offset int64, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	const window = 64 << 10
	if fi, err := f.Stat(); err == nil {
		offset = max(offset, fi.Size()-window, 0)
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return ""
	}
	data, _ := io.ReadAll(f)
	text := strings.TrimRight(string(data), "\n")
	if text == "" {
		return ""
	}
	lines := strings.Split(text, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
