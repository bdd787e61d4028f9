package console

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/ossimport/ossimport/internal/master"
	"github.com/ossimport/ossimport/internal/service"
	"github.com/ossimport/ossimport/internal/workdir"
)

func newRetryCommand(sysPath *string) *cobra.Command {
	return &cobra.Command{
		Use:     "retry [job_name]",
		Aliases: []string{"Retry"},
		Short:   "retry all failed tasks",
		Long: `retry queues the failed tasks of one job, or of every job, again; only the
objects that failed are copied again. It works whether or not the service
is running: a stopped service runs them when it is started. Objects whose
names can never be copied (InvalidName: not UTF-8, a line break, a leading
'/') are not retried: retry says so and where they are listed; rename
them at the source and copy them with a new job. A job that was never
submitted is an error (exit status 1).`,
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			var name string
			if len(args) == 1 {
				name = args[0]
				if err := service.CheckJobName(name); err != nil {
					return &ExitError{Code: 1, Err: err}
				}
			}
			return runRetry(cmd.Context(), cmd.OutOrStdout(), *sysPath, name)
		},
	}
}

func runRetry(ctx context.Context, stdout io.Writer, sysPath, name string) error {
	s, err := loadValidSys(sysPath)
	if err != nil {
		return err
	}
	se, err := service.OpenSession(ctx, s, false)
	if err != nil {
		return &ExitError{Code: 1, Err: err}
	}
	defer se.Close()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	dir := workdir.Dir(s.WorkingDir)
	if name != "" {
		if err := requireJob(ctx, se, s, dir, name); err != nil {
			return &ExitError{Code: 1, Err: err}
		}
	}
	r, sent, err := se.ToMaster(ctx, master.VerbRetry, []byte(name))
	if !sent && err == nil {
		if err = se.Store(ctx, s); err == nil {
			r, err = master.Retry(ctx, se.Bus, dir, name)
		}
	}
	if err != nil {
		return &ExitError{Code: 1, Err: err}
	}
	fmt.Fprintln(stdout, r.Message)
	return nil
}
