package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/ossimport/ossimport/internal/config"
)

// File is one file Deploy copies to every host.
type File struct {
	// Local is the path on this machine.
	Local string
	// Remote is the destination; a relative path is taken relative to
	// Options.WorkingDir.
	Remote string
	// Mode is the remote file mode; 0 means the local file's permissions.
	Mode os.FileMode
}

// HostResult is what Deploy did on one host.
type HostResult struct {
	Host     config.WorkerHost
	Addr     string   // host:port
	Uploaded []string // remote paths written
	Skipped  []string // remote paths already up to date
	Err      error    // nil when every step succeeded
	Duration time.Duration
}

// OK reports whether the host was deployed without error.
func (r HostResult) OK() bool { return r.Err == nil }

// Deploy connects to every host in parallel (at most opts.Parallel at a
// time), creates opts.WorkingDir and uploads files there. It returns one
// result per host, in the order of hosts; a failing host does not stop the
// others.
func Deploy(ctx context.Context, hosts []config.WorkerHost, opts Options, files []File) []HostResult {
	return DeployEach(ctx, hosts, opts, func(int) []File { return files })
}

// DeployEach is Deploy with files chosen per host (i is the host's
// index in hosts).
func DeployEach(ctx context.Context, hosts []config.WorkerHost, opts Options, files func(i int) []File) []HostResult {
	results := make([]HostResult, len(hosts))
	done := ForEach(ctx, hosts, opts, func(ctx context.Context, i int, c *Client) (string, error) {
		return "", deployHost(ctx, c, &results[i], opts, files(i))
	})
	for i, r := range done {
		results[i].Host, results[i].Addr, results[i].Err, results[i].Duration = r.Host, r.Addr, r.Err, r.Duration
	}
	return results
}

// Result is what ForEach did on one host.
type Result struct {
	Host     config.WorkerHost
	Addr     string // host:port
	Status   string // what fn reported, e.g. "started"
	Err      error
	Duration time.Duration
}

// ForEach logs in to every host in parallel (at most opts.Parallel at a
// time) and runs fn there; i is the host's index in hosts. It returns one
// result per host, in the order of hosts; a failing host does not stop
// the others.
func ForEach(ctx context.Context, hosts []config.WorkerHost, opts Options, fn func(ctx context.Context, i int, c *Client) (status string, err error)) []Result {
	port := opts.Port
	if port == 0 {
		port = DefaultPort
	}
	results := make([]Result, len(hosts))
	for i, h := range hosts {
		results[i] = Result{Host: h, Addr: h.Addr(port)}
	}
	if err := opts.Validate(); err != nil {
		for i := range results {
			results[i].Err = err
		}
		return results
	}
	par := opts.Parallel
	if par <= 0 {
		par = DefaultParallel
	}
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for i := range hosts {
		r := &results[i]
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				r.Err = ctx.Err()
				return
			}
			defer func() { <-sem }()
			start := time.Now()
			defer func() { r.Duration = time.Since(start) }()
			c, err := Dial(ctx, hosts[i], opts)
			if err != nil {
				r.Err = err
				return
			}
			defer c.Close()
			r.Status, r.Err = fn(ctx, i, c)
		})
	}
	wg.Wait()
	return results
}

// FormatTable prints ForEach's results as an aligned table with one row
// per host, and a summary line "<verb> on N of M hosts".
func FormatTable(w io.Writer, verb string, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tRESULT\tTIME\tDETAIL")
	failed := 0
	for _, r := range results {
		res, msg := "OK", r.Status
		if r.Err != nil {
			res, msg = "FAILED", oneLine(r.Err)
			failed++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Addr, res, r.Duration.Round(10*time.Millisecond), msg)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return summary(w, verb+" on", len(results), failed)
}

// summary is the last line of the tables: "<what> N of M hosts", and how
// many failed.
func summary(w io.Writer, what string, hosts, failed int) error {
	var err error
	if failed == 0 {
		_, err = fmt.Fprintf(w, "%s %d of %d hosts\n", what, hosts, hosts)
	} else {
		_, err = fmt.Fprintf(w, "%s %d of %d hosts; %d FAILED\n", what, hosts-failed, hosts, failed)
	}
	return err
}

// Errors returns the results with an error, joined; nil when all hosts
// succeeded.
func Errors(results []Result) error {
	var errs []error
	for _, r := range results {
		if r.Err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", r.Addr, r.Err))
		}
	}
	return errors.Join(errs...)
}

// deployHost creates the working directory and uploads files, recording
// in r what was uploaded and what skipped.
func deployHost(ctx context.Context, c *Client, r *HostResult, opts Options, files []File) error {
	wd := remoteWorkDir(opts.WorkingDir)
	if wd != "" && wd != "." {
		if err := c.MkdirAll(ctx, wd); err != nil {
			return err
		}
	}
	for _, f := range files {
		remote := remoteWorkDir(f.Remote)
		if !path.IsAbs(remote) && wd != "" {
			remote = path.Join(wd, remote)
		}
		mode := f.Mode
		if mode == 0 {
			st, err := os.Stat(f.Local)
			if err != nil {
				return fmt.Errorf("upload %s: %w", f.Local, err)
			}
			mode = st.Mode().Perm()
		}
		skipped, err := c.Upload(ctx, f.Local, remote, mode)
		if err != nil {
			return err
		}
		if skipped {
			r.Skipped = append(r.Skipped, remote)
		} else {
			r.Uploaded = append(r.Uploaded, remote)
		}
	}
	return nil
}

// remoteWorkDir turns "~" and "~/x" into paths relative to the login
// directory, which is where SFTP and remote commands start.
func remoteWorkDir(p string) string {
	switch {
	case p == "~":
		return "."
	case strings.HasPrefix(p, "~/"):
		return path.Clean(strings.TrimPrefix(p, "~/"))
	case p == "":
		return ""
	}
	return path.Clean(p)
}

// FormatResults prints an aligned table with one row per host and a
// summary line.
func FormatResults(w io.Writer, results []HostResult) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tRESULT\tUPLOADED\tSKIPPED\tTIME\tERROR")
	failed := 0
	for _, r := range results {
		res, msg := "OK", ""
		if r.Err != nil {
			res, msg = "FAILED", oneLine(r.Err)
			failed++
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\n", r.Addr, res, len(r.Uploaded), len(r.Skipped),
			r.Duration.Round(10*time.Millisecond), msg)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return summary(w, "deployed to", len(results), failed)
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// Failed returns the results with an error, joined; nil when all hosts
// succeeded.
func Failed(results []HostResult) error {
	var errs []error
	for _, r := range results {
		if r.Err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", r.Addr, r.Err))
		}
	}
	return errors.Join(errs...)
}

// RemoteDir is the form of a working directory that remote commands and
// SFTP use: "~" and "~/x" become relative to the login directory, where
// both start.
func RemoteDir(p string) string { return remoteWorkDir(p) }

// ShellQuote quotes s for the remote POSIX shell.
func ShellQuote(s string) string { return shellQuote(s) }
