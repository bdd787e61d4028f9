package console

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/deploy"
	"github.com/ossimport/ossimport/internal/service"
	"github.com/ossimport/ossimport/internal/workdir"
)

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
	cmd.Flags().DurationVar(&wait, "wait", service.StartWait, "how long to wait for the service to answer")
	_ = cmd.Flags().MarkHidden("wait")
	return cmd
}

func runStart(ctx context.Context, stdout, stderr io.Writer, sysPath, workersPath string, wait time.Duration) error {
	s, c, err := loadDeployment(sysPath, workersPath)
	if err != nil {
		return err
	}
	local := service.Local{Sys: s, SysPath: sysPath, WorkersPath: workersPath, Stdout: stdout, Stderr: stderr}
	if err := startCluster(ctx, local, c, wait); err != nil {
		return err
	}
	service.PrintReplicationWarnings(ctx, stderr, s)
	if !c.Distributed() {
		return nil
	}
	// Distributed: a worker on every other machine of conf/workers. Run
	// again after adding machines: running workers are left alone.
	if err := deploy.StartWorkers(ctx, stdout, c); err != nil {
		return &ExitError{Code: 1, Err: fmt.Errorf("some workers did not start (fix them and run start again; the others work meanwhile): %w", err)}
	}
	return nil
}

// startCluster starts the local service and, with natsEmbeddedCluster,
// beside it the members' services over SSH: the NATS server here forms
// JetStream's cluster only with theirs. The members' table follows the
// local service's answer.
func startCluster(ctx context.Context, local service.Local, c *service.Cluster, wait time.Duration) error {
	if len(c.Members()) == 0 {
		return local.Start(ctx, wait)
	}
	token, err := bus.Token(workdir.Dir(local.Sys.WorkingDir).Token())
	if err != nil {
		return &ExitError{Code: 1, Err: err}
	}
	mctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var table bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- deploy.StartMembers(mctx, &table, c, token) }()
	startErr := local.Start(ctx, max(wait, deploy.MemberJoinWait))
	if startErr != nil {
		cancel() // no master here to see the members join
	}
	membersErr := <-done
	stdout := local.Stdout
	stdout.Write(table.Bytes())
	if startErr != nil {
		return startErr
	}
	if membersErr != nil {
		return &ExitError{Code: 1, Err: fmt.Errorf("some NATS servers of natsEmbeddedCluster did not start (fix them and run start again; the cluster runs while two of three are up): %w", membersErr)}
	}
	return nil
}
