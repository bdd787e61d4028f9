package console

import (
	"context"
	"fmt"
	"io"

	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/job"
)

// checkConnect is `check --connect`: after a clean configuration check it
// opens the job's stores and runs the preflight submit and run use (the
// source is listed, the destination bucket is checked with one
// authenticated request), so a wrong endpoint, region, bucket or key is
// found before the job is submitted.
func checkConnect(ctx context.Context, w io.Writer, f checkFiles) error {
	if ctx == nil {
		ctx = context.Background()
	}
	j, diags, err := config.LoadJob(f.job)
	if err != nil || diags.HasErrors() {
		return nil // already reported
	}
	s := config.DefaultSys()
	if f.sys != "" {
		if s, _, err = config.LoadSys(f.sys); err != nil {
			return &ExitError{Code: 2, Err: err}
		}
	}
	spec, err := job.New(j, s)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	src, dst, err := job.Open(ctx, spec)
	if err == nil {
		err = job.Preflight(ctx, spec, src, dst)
	}
	if err != nil {
		fmt.Fprintf(w, "error: %v\ncheck: connection failed\n", err)
		return &ExitError{Code: 1, Err: fmt.Errorf("preflight: %w", err)}
	}
	fmt.Fprintf(w, "check: connected: %s is listable and %s accepts the keys\n", src, dst)
	return nil
}
