package tracker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/ossimport/ossimport/internal/workdir"
)

// RebuildReport says what Rebuild did.
type RebuildReport struct {
	// Entries is how many journal entries were filed.
	Entries uint64
	// Jobs are the jobs whose view was rebuilt.
	Jobs []string
	// Kept are the jobs whose previous view was kept (moved back from
	// Aside): their journal holds fewer tasks than it (entries written by
	// an earlier version, before tasks were journaled).
	Kept []string
	// Aside is where the previous view went.
	Aside string
}

// Rebuild files the jobs' journals into an empty view, the previous one
// moved aside first (nothing is deleted). A job whose journal holds fewer
// tasks than its previous view keeps the previous view. The service must
// not run on the working directory (the caller holds its lock).
func Rebuild(ctx context.Context, opts Options) (RebuildReport, error) {
	var r RebuildReport
	if err := opts.Validate(); err != nil {
		return r, err
	}
	jobs := opts.Dir.Jobs()
	r.Aside = jobs + ".before-rebuild-" + time.Now().Format("20060102-150405")
	if err := os.Rename(jobs, r.Aside); err != nil && !errors.Is(err, os.ErrNotExist) {
		return r, fmt.Errorf("move the view aside: %w", err)
	}
	t, err := New(opts)
	if err != nil {
		return r, err
	}
	if err := os.Remove(markerPath(opts.Dir)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return r, err
	}
	t.openBook()
	fctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var ferr error
	wg.Go(func() { ferr = t.follow(fctx) })
	err = t.FiledUpTo(ctx)
	stop()
	wg.Wait()
	t.closeBook()
	if err = errors.Join(err, ferr); err != nil {
		return r, fmt.Errorf("rebuild the view (the previous one is in %s): %w", r.Aside, err)
	}
	r.Entries = t.filed.Load()
	for _, name := range Jobs(opts.Dir) {
		if pj, err := SubmittedJob(ctx, opts.Bus, name); err == nil {
			t.RestoreJobFiles(ctx, pj)
		}
	}
	for _, name := range workdir.Subdirs(r.Aside) {
		if countTasks(filepath.Join(r.Aside, name)) <= countTasks(opts.Dir.Job(name)) {
			continue
		}
		if err := os.RemoveAll(opts.Dir.Job(name)); err != nil {
			return r, err
		}
		if err := os.Rename(filepath.Join(r.Aside, name), opts.Dir.Job(name)); err != nil {
			return r, fmt.Errorf("keep the previous view of job %s: %w", name, err)
		}
		r.Kept = append(r.Kept, name)
	}
	r.Jobs = Jobs(opts.Dir)
	return r, nil
}

// countTasks counts the task folders (their TASK files) under dir.
func countTasks(dir string) int {
	n := 0
	_ = filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() == workdir.TaskFile {
			n++
		}
		return nil
	})
	return n
}
