package console

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/ossimport/ossimport/internal/deploy"
	"github.com/ossimport/ossimport/internal/service"
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
	cmd.Flags().DurationVar(&wait, "wait", service.StopWait, "how long to wait for the service to exit before killing it")
	_ = cmd.Flags().MarkHidden("wait")
	return cmd
}

func runStop(ctx context.Context, stdout, stderr io.Writer, sysPath string, wait time.Duration) error {
	s, c, err := loadDeployment(sysPath, "")
	if err != nil {
		return err
	}
	var workersErr error
	if c.Distributed() {
		// Workers first: they hand their tasks back to the master's NATS.
		workersErr = deploy.StopWorkers(ctx, stdout, c)
	}
	if err := stopCluster(ctx, service.Local{Sys: s, Stdout: stdout, Stderr: stderr}, c, wait); err != nil {
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
func stopCluster(ctx context.Context, local service.Local, c *service.Cluster, wait time.Duration) error {
	if len(c.Members()) == 0 {
		return local.Stop(ctx, wait)
	}
	var table bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- deploy.StopMembers(ctx, &table, c) }()
	stdout := local.Stdout
	var buf bytes.Buffer
	local.Stdout = &buf
	err := local.Stop(ctx, wait)
	membersErr := <-done
	stdout.Write(table.Bytes())
	stdout.Write(buf.Bytes())
	if err != nil {
		return err
	}
	if membersErr != nil {
		return &ExitError{Code: 1, Err: fmt.Errorf("some services of natsEmbeddedCluster could not be stopped: %w", membersErr)}
	}
	return nil
}
