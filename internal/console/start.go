package console

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/workdir"
)

// serviceLogName is the service's stdout and stderr, under logs/.
const serviceLogName = "ossimport.log"

func newStartCommand(sysPath *string) *cobra.Command {
	var workersPath string
	var wait time.Duration
	cmd := &cobra.Command{
		Use:     "start",
		Aliases: []string{"Start"},
		Short:   "start import service",
		Long: `start runs the import service in the background, detached from the terminal
(its output goes to <workingDir>/logs/ossimport.log), and waits until it
answers. Submitted jobs resume where they stopped. Starting a running
service does nothing.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runStart(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), *sysPath, workersPath, wait)
		},
	}
	cmd.Flags().StringVar(&workersPath, "workers", "", "workers file (default: workers next to sys.properties, when present)")
	cmd.Flags().DurationVar(&wait, "wait", startWait, "how long to wait for the service to answer")
	_ = cmd.Flags().MarkHidden("wait")
	return cmd
}

func runStart(ctx context.Context, stdout, stderr io.Writer, sysPath, workersPath string, wait time.Duration) error {
	s, err := loadValidSys(sysPath)
	if err != nil {
		return err
	}
	c, err := loadCluster(s, workersPath)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	if err := startCluster(ctx, stdout, stderr, s, c, sysPath, workersPath, wait); err != nil {
		return err
	}
	printReplicationWarnings(ctx, stderr, s)
	if !c.distributed() {
		return nil
	}
	// Distributed: a worker on every other machine of conf/workers. Run
	// again after adding machines: running workers are left alone.
	if err := c.startWorkers(ctx, stdout, workdir.Dir(s.WorkingDir)); err != nil {
		return &ExitError{Code: 1, Err: fmt.Errorf("some workers did not start (fix them and run start again; the others work meanwhile): %w", err)}
	}
	return nil
}

// startCluster starts the local service and, with natsEmbeddedCluster,
// beside it the members' services over SSH: the NATS server here forms
// JetStream's cluster only with theirs. The members' table follows the
// local service's answer.
func startCluster(ctx context.Context, stdout, stderr io.Writer, s *config.Sys, c *cluster, sysPath, workersPath string, wait time.Duration) error {
	if len(c.members()) == 0 {
		return startService(ctx, stdout, stderr, s, sysPath, workersPath, wait)
	}
	dir := workdir.Dir(s.WorkingDir)
	token, err := bus.Token(tokenFile(dir))
	if err != nil {
		return &ExitError{Code: 1, Err: err}
	}
	mctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var table bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- c.startMembers(mctx, &table, dir, token) }()
	startErr := startService(ctx, stdout, stderr, s, sysPath, workersPath, max(wait, memberJoinWait))
	if startErr != nil {
		cancel() // no master here to see the members join
	}
	membersErr := <-done
	stdout.Write(table.Bytes())
	if startErr != nil {
		return startErr
	}
	if membersErr != nil {
		return &ExitError{Code: 1, Err: fmt.Errorf("some NATS servers of natsEmbeddedCluster did not start (fix them and run start again; the cluster runs while two of three are up): %w", membersErr)}
	}
	return nil
}

// startService starts the local service (master, tracker and, unless
// this machine is not in conf/workers, a worker) unless it runs.
func startService(ctx context.Context, stdout, stderr io.Writer, s *config.Sys, sysPath, workersPath string, wait time.Duration) error {
	dir := workdir.Dir(s.WorkingDir)
	pid, lock, err := probeService(ctx, dir, lockWait)
	if err != nil {
		return &ExitError{Code: 1, Err: err}
	}
	if pid > 0 {
		fmt.Fprintf(stdout, "Import service is already running (pid %d).\n", pid)
		return nil
	}
	removePid(dir, 0) // stale: its service died without removing it
	lock.release()

	args, err := serviceArgs(sysPath, workersPath)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	exe, err := os.Executable()
	if err != nil {
		return &ExitError{Code: 2, Err: fmt.Errorf("cannot find the ossimport binary: %w", err)}
	}
	logPath := filepath.Join(dir.Logs(), serviceLogName)
	var logStart int64 // the service's output starts there
	if fi, err := os.Stat(logPath); err == nil {
		logStart = fi.Size()
	}
	child, err := spawnService(exe, args, logPath)
	if err != nil {
		return &ExitError{Code: 1, Err: err}
	}
	exited := make(chan error, 1)
	go func() { exited <- child.Wait() }()

	deadline := time.Now().Add(wait)
	for {
		if pid, ok := pingService(ctx, s, dir); ok {
			if pid != child.Process.Pid {
				fmt.Fprintf(stdout, "Import service is already running (pid %d).\n", pid)
				return nil
			}
			fmt.Fprintln(stdout, "Start import service completed.")
			return nil
		}
		select {
		case err := <-exited:
			if pid, ok := pingService(ctx, s, dir); ok {
				fmt.Fprintf(stdout, "Import service is already running (pid %d).\n", pid)
				return nil
			}
			return startFailed(stderr, logPath, logStart, fmt.Sprintf("the import service exited while starting (%v)", err))
		case <-ctx.Done():
			return &ExitError{Code: 1, Err: ctx.Err()}
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return startFailed(stderr, logPath, logStart, fmt.Sprintf("the import service (pid %d) did not answer within %s; it may still be starting (stop it with `console.sh stop`)",
				child.Process.Pid, wait))
		}
	}
}

// serviceArgs are the arguments of the background `ossimport service`,
// with absolute paths: it shares the console's working directory, but
// nothing should depend on that.
func serviceArgs(sysPath, workersPath string) ([]string, error) {
	if sysPath == "" && fileExists(confFile("sys.properties")) {
		sysPath = confFile("sys.properties")
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

// spawnService starts the service detached, its output appended to
// logPath.
func spawnService(exe string, args []string, logPath string) (*exec.Cmd, error) {
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
func startFailed(stderr io.Writer, logPath string, logStart int64, why string) error {
	fmt.Fprintf(stderr, "Error: %s\n", why)
	if tail := tailFile(logPath, logStart, 20); tail != "" {
		fmt.Fprintf(stderr, "The end of %s:\n%s\n", logPath, tail)
	}
	return &ExitError{Code: 1}
}
