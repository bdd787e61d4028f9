package console

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/service"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/workdir"
)

// errNoJob says that a job named on the command line was never submitted
// (or was cleaned), naming the jobs there are.
func errNoJob(dir workdir.Dir, name string) error {
	jobs := tracker.Jobs(dir)
	known := "there are no jobs"
	if len(jobs) > 0 {
		known = "the jobs are " + strings.Join(jobs, ", ")
	}
	return fmt.Errorf("no job named %s: it was never submitted or was cleaned (%s, under %s)", name, known, filepath.Dir(dir.Job(name)))
}

// requireJob fails with errNoJob unless the job has a folder in the
// working directory or is recorded in the bus.
func requireJob(ctx context.Context, se *service.Session, s *config.Sys, dir workdir.Dir, name string) error {
	if service.FileExists(dir.Job(name)) {
		return nil
	}
	if err := se.Store(ctx, s); err != nil {
		return err
	}
	_, err := se.Bus.Jobs().Get(ctx, name)
	switch {
	case errors.Is(err, bus.ErrNotFound):
		return errNoJob(dir, name)
	case err != nil:
		return fmt.Errorf("read job %s: %w", name, err)
	}
	return nil
}
