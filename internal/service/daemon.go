package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/master"
	"github.com/ossimport/ossimport/internal/workdir"
)

// Local is the service of this machine's working directory as a
// background process: Start spawns it detached (`ossimport service`)
// and waits until it answers, Stop asks it to stop and waits until it
// exits. Both print ossimport's lines on Stdout and warnings on Stderr;
// their errors are *Error.
type Local struct {
	Sys *config.Sys
	// SysPath and WorkersPath are the files the background service is
	// given ("" for its defaults).
	SysPath, WorkersPath string
	Stdout, Stderr       io.Writer
}

// Validate reports a Local that cannot be started or stopped.
func (l Local) Validate() error {
	if l.Sys == nil || l.Stdout == nil || l.Stderr == nil {
		return errors.New("local service: settings, stdout and stderr are required")
	}
	return nil
}

// Start starts the local service (master, tracker and, unless this
// machine is not in conf/workers, a worker) unless it runs, and waits up
// to wait for it to answer.
func (l Local) Start(ctx context.Context, wait time.Duration) error {
	if err := l.Validate(); err != nil {
		return &Error{Code: 2, Err: err}
	}
	s, stdout := l.Sys, l.Stdout
	dir := workdir.Dir(s.WorkingDir)
	pid, lock, err := Probe(ctx, dir, LockWait)
	if err != nil {
		return &Error{Code: 1, Err: err}
	}
	if pid > 0 {
		fmt.Fprintf(stdout, "Import service is already running (pid %d).\n", pid)
		return nil
	}
	RemovePid(dir, 0) // stale: its service died without removing it
	lock.Release()

	args, err := serviceArgs(l.SysPath, l.WorkersPath)
	if err != nil {
		return &Error{Code: 2, Err: err}
	}
	exe, err := os.Executable()
	if err != nil {
		return &Error{Code: 2, Err: fmt.Errorf("cannot find the ossimport binary: %w", err)}
	}
	logPath := dir.Log(workdir.ServiceLogFile)
	var logStart int64 // the service's output starts there
	if fi, err := os.Stat(logPath); err == nil {
		logStart = fi.Size()
	}
	child, err := spawn(exe, args, logPath)
	if err != nil {
		return &Error{Code: 1, Err: err}
	}
	exited := make(chan error, 1)
	go func() { exited <- child.Wait() }()

	deadline := time.Now().Add(wait)
	for {
		if pid, ok := ping(ctx, s, dir); ok {
			if pid != child.Process.Pid {
				fmt.Fprintf(stdout, "Import service is already running (pid %d).\n", pid)
				return nil
			}
			fmt.Fprintln(stdout, "Start import service completed.")
			return nil
		}
		select {
		case err := <-exited:
			if pid, ok := ping(ctx, s, dir); ok {
				fmt.Fprintf(stdout, "Import service is already running (pid %d).\n", pid)
				return nil
			}
			return l.startFailed(logPath, logStart, fmt.Sprintf("the import service exited while starting (%v)", err))
		case <-ctx.Done():
			return &Error{Code: 1, Err: ctx.Err()}
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return l.startFailed(logPath, logStart, fmt.Sprintf("the import service (pid %d) did not answer within %s; it may still be starting (stop it with `console.sh stop`)",
				child.Process.Pid, wait))
		}
	}
}

// serviceArgs are the arguments of the background `ossimport service`,
// with absolute paths: it shares the console's working directory, but
// nothing should depend on that.
func serviceArgs(sysPath, workersPath string) ([]string, error) {
	if sysPath == "" && FileExists(ConfFile("sys.properties")) {
		sysPath = ConfFile("sys.properties")
	}
	args := []string{"service"}
	for _, f := range []struct{ flag, path string }{{"--sys", sysPath}, {"--workers", workersPath}} {
		if f.path == "" {
			continue
		}
		abs, err := filepath.Abs(f.path)
		if err != nil {
			return nil, err
		}
		args = append(args, f.flag, abs)
	}
	return args, nil
}

// spawn starts the service detached, its output appended to logPath.
func spawn(exe string, args []string, logPath string) (*exec.Cmd, error) {
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return nil, fmt.Errorf("create the log folder (check workingDir in sys.properties): %w", err)
	}
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open the service log: %w", err)
	}
	defer logf.Close()
	null, err := os.Open(os.DevNull)
	if err != nil {
		return nil, err
	}
	defer null.Close()
	cmd := exec.Command(exe, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = null, logf, logf
	detach(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the import service: %w", err)
	}
	return cmd, nil
}

// startFailed reports a failed start with the end of what the service
// wrote to its log.
func (l Local) startFailed(logPath string, logStart int64, why string) error {
	fmt.Fprintf(l.Stderr, "Error: %s\n", why)
	if tail := TailFile(logPath, logStart, 20); tail != "" {
		fmt.Fprintf(l.Stderr, "The end of %s:\n%s\n", logPath, tail)
	}
	return &Error{Code: 1}
}

// Stop stops the local service: it asks it to stop, waits up to wait
// for it to exit, then kills it.
func (l Local) Stop(ctx context.Context, wait time.Duration) error {
	if err := l.Validate(); err != nil {
		return &Error{Code: 2, Err: err}
	}
	s, stdout, stderr := l.Sys, l.Stdout, l.Stderr
	dir := workdir.Dir(s.WorkingDir)
	pid, lock, err := Probe(ctx, dir, LockWait)
	if err != nil {
		return &Error{Code: 1, Err: err}
	}
	if pid == 0 {
		RemovePid(dir, 0) // stale: its service died without removing it
		lock.Release()
		fmt.Fprintln(stdout, "Import service is not running.")
		return nil
	}
	if err := requestStop(ctx, s, dir, pid); err != nil {
		fmt.Fprintf(stderr, "Warning: the service did not answer the stop request (%v); sending it SIGTERM\n", err)
		if err := signalProcess(pid, syscall.SIGTERM); err != nil && ProcessAlive(pid) {
			return &Error{Code: 1, Err: fmt.Errorf("cannot signal the service (pid %d): %w", pid, err)}
		}
	}
	if !waitStopped(ctx, dir, wait) {
		if ctx.Err() != nil {
			return &Error{Code: 1, Err: ctx.Err()}
		}
		fmt.Fprintf(stderr, "Warning: the service (pid %d) did not stop within %s; killing it (its running tasks are redelivered after taskAckWait)\n", pid, wait)
		if err := signalProcess(pid, syscall.SIGKILL); err != nil && ProcessAlive(pid) {
			return &Error{Code: 1, Err: fmt.Errorf("cannot kill the service (pid %d): %w", pid, err)}
		}
		if !waitStopped(ctx, dir, 10*time.Second) {
			return &Error{Code: 1, Err: fmt.Errorf("the service (pid %d) is still running after SIGKILL", pid)}
		}
	}
	if _, lock, err := Probe(ctx, dir, 0); err == nil && lock != nil {
		RemovePid(dir, pid) // left by a killed service
		lock.Release()
	}
	fmt.Fprintln(stdout, "Stop import service completed.")
	return nil
}

// requestStop sends the stop control request to the running service.
// A service that does not answer within 5 seconds gets SIGTERM instead
// (also a graceful stop).
func requestStop(ctx context.Context, s *config.Sys, dir workdir.Dir, pid int) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	b, err := connect(ctx, s, dir, 5*time.Second)
	if err != nil {
		return err
	}
	defer b.Close()
	_, err = b.RequestService(ctx, serviceID(pid), master.VerbStop, nil)
	return err
}
