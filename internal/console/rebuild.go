package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ossimport/ossimport/internal/master"
	"github.com/ossimport/ossimport/internal/service"
	"github.com/ossimport/ossimport/internal/workdir"
)

func newRebuildCommand(sysPath *string) *cobra.Command {
	return &cobra.Command{
		Use:   "rebuild",
		Short: "rebuild the working-directory view from the job journals in NATS",
		Long: `rebuild files every job's journal (kept in NATS JetStream: the tasks
planned, the workers' results, retries, aborts) into a fresh view under
<workingDir>/master/jobs, as a standby service does continuously. The
previous view is moved aside to master/jobs.before-rebuild-<time>, never
deleted; a job whose journal holds fewer tasks than its previous view
(journaled by an earlier version) keeps its previous view. The service
must be stopped on this working directory (console.sh stop).`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRebuild(cmd.Context(), cmd.OutOrStdout(), *sysPath)
		},
	}
}

func runRebuild(ctx context.Context, stdout io.Writer, sysPath string) error {
	s, err := loadValidSys(sysPath)
	if err != nil {
		return err
	}
	se, err := service.OpenSession(ctx, s, false)
	if err != nil {
		return &ExitError{Code: 1, Err: err}
	}
	defer se.Close()
	if se.Pid > 0 {
		return &ExitError{Code: 1, Err: fmt.Errorf("the service (pid %d) runs on this working directory and keeps its view current: stop it first (console.sh stop), then rebuild", se.Pid)}
	}
	if err := se.Store(ctx, s); err != nil {
		return &ExitError{Code: 1, Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	r, err := master.Rebuild(ctx, master.Options{Dir: workdir.Dir(s.WorkingDir), Bus: se.Bus, Settings: master.SettingsFrom(s)})
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("the journal was not filed within 30 minutes: %w", err)
	}
	if err != nil {
		return &ExitError{Code: 1, Err: err}
	}
	fmt.Fprintf(stdout, "Rebuilt the view of %d jobs from %d journal entries; the previous view is in %s.\n", len(r.Jobs), r.Entries, r.Aside)
	if len(r.Kept) > 0 {
		fmt.Fprintf(stdout, "Kept the previous view of %s: their journals hold fewer tasks (written by an earlier version).\n", strings.Join(r.Kept, ", "))
	}
	return nil
}
