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
	results := make([]HostResult, len(hosts))
	port := opts.Port
	if port == 0 {
		port = DefaultPort
	}
	for i, h := range hosts {
		results[i] = HostResult{Host: h, Addr: h.Addr(port)}
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
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				results[i].Err = ctx.Err()
				return
			}
			defer func() { <-sem }()
			start := time.Now()
			deployHost(ctx, &results[i], opts, files)
			results[i].Duration = time.Since(start)
		}()
	}
	wg.Wait()
	return results
}

func deployHost(ctx context.Context, r *HostResult, opts Options, files []File) {
	c, err := Dial(ctx, r.Host, opts)
	if err != nil {
		r.Err = err
		return
	}
	defer c.Close()
	wd := remoteWorkDir(opts.WorkingDir)
	if wd != "" && wd != "." {
		if err := c.MkdirAll(ctx, wd); err != nil {
			r.Err = err
			return
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
				r.Err = fmt.Errorf("upload %s: %w", f.Local, err)
				return
			}
			mode = st.Mode().Perm()
		}
		skipped, err := c.Upload(ctx, f.Local, remote, mode)
		if err != nil {
			r.Err = err
			return
		}
		if skipped {
			r.Skipped = append(r.Skipped, remote)
		} else {
			r.Uploaded = append(r.Uploaded, remote)
		}
	}
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
	var err error
	if failed == 0 {
		_, err = fmt.Fprintf(w, "deployed to %d of %d hosts\n", len(results), len(results))
	} else {
		_, err = fmt.Fprintf(w, "deployed to %d of %d hosts; %d FAILED\n", len(results)-failed, len(results), failed)
	}
	return err
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
