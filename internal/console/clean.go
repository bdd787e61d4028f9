package console

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/ossimport/ossimport/internal/job"
	"github.com/ossimport/ossimport/internal/master"
	"github.com/ossimport/ossimport/internal/service"
	"github.com/ossimport/ossimport/internal/workdir"
)

func newCleanCommand(sysPath *string) *cobra.Command {
	return &cobra.Command{
		Use:     "clean job_name",
		Aliases: []string{"Clean"},
		Short:   "clean old job",
		Long: `clean deletes a job: its queued tasks, its state and its folder under the
working directory, so that a job of the same name can be submitted again.
Do not clean a job you want to resume or retry. It works whether or not the
service is running. Objects already copied stay at the destination; the
job's unfinished multipart uploads there are aborted.`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := service.CheckJobName(args[0]); err != nil {
				return &ExitError{Code: 1, Err: err}
			}
			return runClean(cmd.Context(), cmd.OutOrStdout(), *sysPath, args[0])
		},
	}
}

func runClean(ctx context.Context, stdout io.Writer, sysPath, name string) error {
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
	if err := requireJob(ctx, se, s, dir, name); err != nil {
		return &ExitError{Code: 1, Err: err}
	}
	msg := "Clean job:" + name + " completed."
	r, sent, err := se.ToMaster(ctx, master.VerbClean, []byte(name))
	if err != nil {
		return &ExitError{Code: 1, Err: err}
	}
	if sent {
		msg = r.Message
	} else {
		if err := se.Store(ctx, s); err != nil {
			return &ExitError{Code: 1, Err: err}
		}
		if err := master.Clean(ctx, se.Bus, dir, name, job.FromConfig, s); err != nil {
			return &ExitError{Code: 1, Err: err}
		}
	}
	fmt.Fprintln(stdout, msg)
	return nil
}
