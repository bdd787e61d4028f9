package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/job"
	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/service"
	"github.com/ossimport/ossimport/internal/workdir"
)

func newSubmitCommand(sysPath *string) *cobra.Command {
	var dry bool
	cmd := &cobra.Command{
		Use:     "submit [job_cfg_file]",
		Aliases: []string{"Submit"},
		Short:   "submit job",
		Long: `submit validates a job file (default $OSS_IMPORT_HOME/conf/job.cfg, or
conf/local_job.cfg when only that exists), checks that the source can be
listed and the destination reached, and records the job for the service.
It works whether or not the service is running; a stopped service starts
the job when it is started. A job of the same name must be cleaned first.
Problems are printed on lines containing "Error:".

--dry-run submits nothing: it lists the source as the job would and
reports what would be copied, skipped (isSkipExistFile asks the
destination for each object; symbolic links; importSince), fail
(InvalidName) and be excluded by each filter, with counts and bytes, and
writes one line per object to <workingDir>/dryrun/<job>-<time>.csv.
Nothing is written at the destination or in the job's folder.`,
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := defaultJobFile()
			if len(args) == 1 {
				path = args[0]
			}
			return runSubmit(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), path, *sysPath, dry)
		},
	}
	cmd.Flags().BoolVar(&dry, "dry-run", false, "report what the job would copy, skip and exclude; submit nothing")
	return cmd
}

func runSubmit(ctx context.Context, stdout, stderr io.Writer, path, sysPath string, dry bool) error {
	fail := func(code int, format string, a ...any) error {
		fmt.Fprintf(stderr, "Error: "+format+"\n", a...)
		return &ExitError{Code: code}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return fail(2, "cannot read the job file: %v (give the job file as an argument)", err)
	}
	j, diags := config.ParseJob(path, raw)
	s, sd, err := loadSys(sysPath)
	if err != nil {
		return fail(2, "%v", err)
	}
	diags = append(diags, sd...)
	for _, d := range diags.Warnings() {
		fmt.Fprintln(stderr, d)
	}
	for _, d := range diags.Errors() {
		fmt.Fprintf(stderr, "Error: %s\n", d)
	}
	if diags.HasErrors() {
		return &ExitError{Code: 2}
	}
	spec, err := job.New(j, s)
	if err != nil {
		return fail(2, "%v", err)
	}
	dir := workdir.Dir(s.WorkingDir)
	if !dry && service.FileExists(dir.Job(spec.Name)) {
		return fail(1, "job %s already exists, please clean it first", spec.Name)
	}
	src, dst, err := job.Open(ctx, spec)
	if err != nil {
		return fail(2, "%v", err)
	}
	if err := job.Preflight(ctx, spec, src, dst); err != nil {
		return fail(2, "%v", err)
	}
	if dry {
		return dryRun(ctx, stdout, stderr, spec, src, dst, dir)
	}

	se, err := service.OpenSession(ctx, s, false)
	if err != nil {
		return fail(1, "%v", err)
	}
	defer se.Close()
	if err := se.Store(ctx, s); err != nil {
		return fail(1, "%v", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	err = service.PutJob(ctx, se.Bus, dir, protocol.Job{Name: spec.Name, Config: raw, File: abs, Submitted: time.Now()}, true)
	var jobFile *service.JobFileError
	switch {
	case errors.Is(err, bus.ErrJobExists):
		return fail(1, "job %s already exists, please clean it first", spec.Name)
	case errors.As(err, &jobFile):
		fmt.Fprintf(stderr, "warning: %v\n", err)
	case err != nil:
		return fail(1, "%v", err)
	}
	fmt.Fprintf(stdout, "submit job:%s\n", path)
	return nil
}
