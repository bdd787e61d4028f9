package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/job"
	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/workdir"
)

// SubmitRun makes run's job the service's: submitted when new; when
// known, its job file brought up to date, an Abort cleared and its
// failed tasks queued again (only their failed objects), so running the
// same command again retries what failed and resumes what was
// interrupted.
func (se *Service) SubmitRun(ctx context.Context, spec *job.Spec, path string, raw []byte) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	pj := protocol.Job{Name: spec.Name, Config: raw, File: abs, Submitted: time.Now()}
	data, err := se.mb.Jobs().Get(ctx, spec.Name)
	switch {
	case errors.Is(err, bus.ErrNotFound):
		if err := se.warnJobFile(PutJob(ctx, se.mb, se.dir, pj, true)); err != nil {
			return err
		}
	case err != nil:
		return fmt.Errorf("read job %s: %w", spec.Name, err)
	default:
		old, err := protocol.DecodeJob(data)
		if err != nil {
			return fmt.Errorf("read job %s: %w", spec.Name, err)
		}
		if !bytes.Equal(old.Config, raw) || old.State == tracker.Abort {
			pj.Submitted = old.Submitted
			if err := se.warnJobFile(PutJob(ctx, se.mb, se.dir, pj, false)); err != nil {
				return err
			}
		}
		if err := os.Remove(filepath.Join(se.dir.Job(spec.Name), workdir.StateFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("clear the job's state: %w", err)
		}
		n, err := se.master.RetryFailed(ctx, spec.Name)
		if err != nil {
			return err
		}
		if n > 0 {
			se.logs.jobs.Info("failed tasks queued again", "job", spec.Name, "tasks", n)
		}
	}
	return nil
}

// warnJobFile logs a JobFileError as a warning and returns other errors.
func (se *Service) warnJobFile(err error) error {
	var jf *JobFileError
	if errors.As(err, &jf) {
		se.logs.jobs.Warn(jf.Error())
		return nil
	}
	return err
}

// PutJob stores the job for the master (created only if new when create
// is set) and writes its masked job file into the job's folder, so stat
// shows the job from then on. submit and run both file jobs this way.
func PutJob(ctx context.Context, b *bus.Bus, dir workdir.Dir, pj protocol.Job, create bool) error {
	data, err := protocol.EncodeJob(pj)
	if err != nil {
		return err
	}
	if create {
		err = b.CreateJob(ctx, pj.Name, data)
	} else {
		err = b.Jobs().Put(ctx, pj.Name, data)
	}
	if err != nil {
		return fmt.Errorf("submit job %s: %w", pj.Name, err)
	}
	if err := workdir.WriteFile(dir.JobFile(pj.Name), config.MaskJobFile(pj.Config)); err != nil {
		return &JobFileError{err: err}
	}
	return nil
}

// JobFileError is a job stored for the master whose job file could not
// be written into its folder: the job runs, stat shows it from its
// records; callers warn.
type JobFileError struct{ err error }

func (e *JobFileError) Error() string {
	return fmt.Sprintf("the job was submitted, but its job file could not be kept in the working directory: %v", e.err)
}

func (e *JobFileError) Unwrap() error { return e.err }
