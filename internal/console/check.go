package console

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/service"
)

func newCheckCommand() *cobra.Command {
	var sysPath, workersPath string
	var connect bool
	cmd := &cobra.Command{
		Use:   "check [job.cfg]",
		Short: "validate the configuration files and print the effective settings",
		Long: `check reads the job file (default conf/job.cfg, or conf/local_job.cfg when only
that exists, under $OSS_IMPORT_HOME when it is set), conf/sys.properties and
conf/workers when they exist, and prints every setting in effect with where
it came from, followed by all warnings and errors. Secrets are masked.
With --connect it then lists the source and checks that the destination
bucket exists and accepts the keys, as submit and run do before starting.
The exit status is 0 when no errors were found and 1 otherwise.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f := checkFiles{job: defaultJobFile(), sys: sysPath, workers: workersPath}
			if len(args) == 1 {
				f.job = args[0]
			}
			if f.sys == "" && service.FileExists(service.ConfFile("sys.properties")) {
				f.sys = service.ConfFile("sys.properties")
			}
			if f.workers == "" && service.FileExists(service.ConfFile("workers")) {
				f.workers = service.ConfFile("workers")
			}
			if err := runCheck(cmd.OutOrStdout(), f); err != nil || !connect {
				return err
			}
			return checkConnect(cmd.Context(), cmd.OutOrStdout(), f)
		},
	}
	cmd.Flags().StringVar(&sysPath, "sys", "", "sys.properties to check (default conf/sys.properties when present)")
	cmd.Flags().StringVar(&workersPath, "workers", "", "workers file to check (default conf/workers when present)")
	cmd.Flags().BoolVar(&connect, "connect", false, "also reach the source and destination: list the source and check the destination bucket and keys (the preflight of submit and run)")
	return cmd
}

// checkFiles names the files one check run reads; empty sys or workers
// means the file is skipped.
type checkFiles struct {
	job, sys, workers string
}

// runCheck loads every file, prints the effective settings and the
// diagnostics, and returns an *ExitError when something is wrong.
func runCheck(w io.Writer, f checkFiles) error {
	j, diags, err := config.LoadJob(f.job)
	if err != nil {
		return &ExitError{Code: 2, Err: fmt.Errorf("%w (give the job file as an argument)", err)}
	}
	printSettings(w, f.job, j.Effective())
	var sys *config.Sys
	if f.sys != "" {
		s, sd, err := config.LoadSys(f.sys)
		if err != nil {
			return &ExitError{Code: 2, Err: err}
		}
		printSettings(w, f.sys, s.Effective())
		diags = append(diags, sd...)
		if sd.Err() == nil {
			diags = append(diags, service.CheckReplication(context.Background(), s)...)
		}
		sys = s
	}
	if f.workers != "" {
		ws, wd, err := config.LoadWorkers(f.workers)
		if err != nil {
			return &ExitError{Code: 2, Err: err}
		}
		printWorkers(w, ws)
		diags = append(diags, wd...)
		if sys != nil && sys.NATSEmbeddedCluster {
			if _, err := service.EmbeddedClusterHosts(ws); err != nil {
				diags = append(diags, config.Diagnostic{File: f.workers, Key: "natsEmbeddedCluster", Severity: config.Error, Msg: err.Error()})
			}
		}
		if d, ok := plainNATSWarning(sys, ws); ok {
			diags = append(diags, d)
		}
	}
	return printDiagnostics(w, diags)
}

// printSettings writes one aligned "key = value  # source" line per key.
func printSettings(w io.Writer, file string, settings []config.Setting) {
	fmt.Fprintf(w, "# %s\n", file)
	keyWidth, valWidth := 0, 0
	for _, s := range settings {
		keyWidth = max(keyWidth, len(s.Key))
		valWidth = min(max(valWidth, len(s.Value)), 40)
	}
	for _, s := range settings {
		src := "default"
		switch {
		case s.Line > 0:
			src = fmt.Sprintf("line %d", s.Line)
		case !s.Default:
			src = "set"
		}
		if s.Note != "" {
			src += "; " + s.Note
		}
		line := fmt.Sprintf("%-*s = %-*s  # %s", keyWidth, s.Key, valWidth, s.Value, src)
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	fmt.Fprintln(w)
}

// printWorkers lists the hosts of a workers file.
func printWorkers(w io.Writer, ws *config.Workers) {
	fmt.Fprintf(w, "# %s\n", ws.File)
	for i, h := range ws.Hosts {
		addr := h.Host
		if h.Port != 0 {
			addr = h.Addr(h.Port)
		}
		role := "worker"
		if i == 0 {
			role = "master and worker"
		}
		fmt.Fprintf(w, "%-40s  # line %d, %s\n", addr, h.Line, role)
	}
	fmt.Fprintln(w)
}

// printDiagnostics writes warnings, then errors, then a summary line.
func printDiagnostics(w io.Writer, diags config.Diagnostics) error {
	warns, errs := diags.Warnings(), diags.Errors()
	for _, d := range warns {
		fmt.Fprintf(w, "warning: %s\n", d)
	}
	for _, d := range errs {
		fmt.Fprintf(w, "error: %s\n", d)
	}
	if len(errs) > 0 {
		fmt.Fprintf(w, "check: %s, %s\n", plural(len(errs), "error"), plural(len(warns), "warning"))
		return &ExitError{Code: 1, Err: fmt.Errorf("configuration has %s", plural(len(errs), "error"))}
	}
	fmt.Fprintf(w, "check: OK, %s\n", plural(len(warns), "warning"))
	return nil
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// plainNATSWarning warns when NATS traffic between machines would be
// clear text: other machines listed, natsAutoTls=false and no TLS
// certificate of the operator's own (natsUrl's NATS is the operator's
// to secure).
func plainNATSWarning(s *config.Sys, ws *config.Workers) (config.Diagnostic, bool) {
	if s == nil || s.NATSAutoTLS || s.NATSTLSCert != "" || len(s.NATSURLs) > 0 {
		return config.Diagnostic{}, false
	}
	for _, h := range ws.Hosts {
		if !service.IsLocalHost(h.Host) {
			return config.Diagnostic{File: s.File(), Key: "natsAutoTls", Severity: config.Warning,
				Msg: "natsAutoTls=false: NATS traffic between the machines of conf/workers (the token, the jobs' credentials, the results) crosses the network in clear text; set natsAutoTls=true (the default) or natsTlsCert/natsTlsKey"}, true
		}
	}
	return config.Diagnostic{}, false
}
