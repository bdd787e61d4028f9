package console

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/master"
	"github.com/ossimport/ossimport/internal/workdir"
)

func newStopCommand(sysPath *string) *cobra.Command {
	var wait time.Duration
	cmd := &cobra.Command{
		Use:     "stop",
		Aliases: []string{"Stop"},
		Short:   "stop import service",
		Long: `stop asks the import service to stop and waits until it has exited. Running
tasks are handed back and resume at the next start. A service that has not
exited after a minute is killed.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runStop(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), *sysPath, wait)
		},
	}
	cmd.Flags().DurationVar(&wait, "wait", stopWait, "how long to wait for the service to exit before killing it")
	_ = cmd.Flags().MarkHidden("wait")
	return cmd
}

func runStop(ctx context.Context, stdout, stderr io.Writer, sysPath string, wait time.Duration) error {
	s, err := loadValidSys(sysPath)
	if err != nil {
		return err
	}
	c, err := loadCluster(s, "")
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	var workersErr error
	if c.distributed() {
		// Workers first: they hand their tasks back to the master's NATS.
		workersErr = c.stopWorkers(ctx, stdout)
	}
	if err := stopCluster(ctx, stdout, stderr, s, c, wait); err != nil {
		return err
	}
	if workersErr != nil {
		return &ExitError{Code: 1, Err: fmt.Errorf("some workers could not be stopped: %w", workersErr)}
	}
	return nil
}

// stopCluster stops the local service and, with natsEmbeddedCluster, the
// members' services at the same time: each hands its tasks back while
// the others' NATS servers still make a quorum.
func stopCluster(ctx context.Context, stdout, stderr io.Writer, s *config.Sys, c *cluster, wait time.Duration) error {
	if len(c.members()) == 0 {
		return stopService(ctx, stdout, stderr, s, wait)
	}
	var table bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- c.stopMembers(ctx, &table) }()
	var local bytes.Buffer
	err := stopService(ctx, &local, stderr, s, wait)
	membersErr := <-done
	stdout.Write(table.Bytes())
	stdout.Write(local.Bytes())
	if err != nil {
		return err
	}
	if membersErr != nil {
		return &ExitError{Code: 1, Err: fmt.Errorf("some services of natsEmbeddedCluster could not be stopped: %w", membersErr)}
	}
	return nil
}

// stopService stops the local service.
func stopService(ctx context.Context, stdout, stderr io.Writer, s *config.Sys, wait time.Duration) error {
	dir := workdir.Dir(s.WorkingDir)
	pid, lock, err := probeService(ctx, dir, lockWait)
	if err != nil {
		return &ExitError{Code: 1, Err: err}
	}
	if pid == 0 {
		removePid(dir, 0) // stale: its service died without removing it
		lock.release()
		fmt.Fprintln(stdout, "Import service is not running.")
		return nil
	}
	if err := requestStop(ctx, s, dir, pid); err != nil {
		fmt.Fprintf(stderr, "Warning: the service did not answer the stop request (%v); sending it SIGTERM\n", err)
		if err := signalProcess(pid, syscall.SIGTERM); err != nil && processAlive(pid) {
			return &ExitError{Code: 1, Err: fmt.Errorf("cannot signal the service (pid %d): %w", pid, err)}
		}
	}
	if !waitStopped(ctx, dir, wait) {
		if ctx.Err() != nil {
			return &ExitError{Code: 1, Err: ctx.Err()}
		}
		fmt.Fprintf(stderr, "Warning: the service (pid %d) did not stop within %s; killing it (its running tasks are redelivered after taskAckWait)\n", pid, wait)
		if err := signalProcess(pid, syscall.SIGKILL); err != nil && processAlive(pid) {
			return &ExitError{Code: 1, Err: fmt.Errorf("cannot kill the service (pid %d): %w", pid, err)}
		}
		if !waitStopped(ctx, dir, 10*time.Second) {
			return &ExitError{Code: 1, Err: fmt.Errorf("the service (pid %d) is still running after SIGKILL", pid)}
		}
	}
	if _, lock, err := probeService(ctx, dir, 0); err == nil && lock != nil {
		removePid(dir, pid) // left by a killed service
		lock.release()
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
	b, err := connectService(ctx, s, dir, 5*time.Second)
	if err != nil {
		return err
	}
	defer b.Close()
	_, err = b.RequestService(ctx, serviceID(pid), master.VerbStop, nil)
	return err
}
