package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/ossimport/ossimport/internal/metrics"
	"github.com/ossimport/ossimport/internal/service"
	"github.com/ossimport/ossimport/internal/workdir"
)

// serviceFlags are `ossimport service`'s.
type serviceFlags struct {
	sys, workers string
	// tokenFile "-" reads the NATS token of natsEmbeddedCluster from
	// standard input (console start hands it to the second and third
	// hosts so); status and stop act on the running service instead
	// (console start and stop run them on those hosts over SSH).
	tokenFile    string
	status, stop bool
}

func newServiceCommand() *cobra.Command {
	var f serviceFlags
	cmd := &cobra.Command{
		Use:    "service",
		Hidden: true,
		Short:  "run the import service in the foreground (`console start` runs it in the background)",
		Long: `service runs the import service until it receives SIGTERM or SIGINT or the
console's stop: the embedded NATS server (unless natsUrl names a cluster),
the master and tracker, and in standalone mode (no conf/workers, or one that
lists only this machine) a worker named after this machine's host name. Logs go to
<workingDir>/logs/master.log, logs/tracker.log and logs/worker.log; the
process id to <workingDir>/ossimport.pid. Running tasks are handed back
when it stops.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.status || f.stop {
				return serviceControl(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), f)
			}
			return runService(cmd.Context(), cmd.InOrStdin(), cmd.ErrOrStderr(), f)
		},
	}
	cmd.Flags().StringVar(&f.sys, "sys", "", "sys.properties (default conf/sys.properties when present)")
	cmd.Flags().StringVar(&f.workers, "workers", "", "workers file (default: workers next to sys.properties, when present)")
	cmd.Flags().StringVar(&f.tokenFile, "token-file", "", `"-" reads the NATS token of natsEmbeddedCluster from standard input (it replaces <workingDir>/nats/token)`)
	cmd.Flags().BoolVar(&f.status, "status", false, "report whether the service of this working directory runs (exit status 0: it runs, 3: it does not)")
	cmd.Flags().BoolVar(&f.stop, "stop", false, "stop the service of this working directory and wait until it exits")
	return cmd
}

// runService runs the service until ctx ends, a signal or the console's
// stop. A graceful stop returns nil.
func runService(ctx context.Context, stdin io.Reader, stderr io.Writer, f serviceFlags) error {
	s, err := loadSysWarn(stderr, f.sys)
	if err != nil {
		return err
	}
	c, err := service.LoadCluster(s, f.workers)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	member, err := service.EmbeddedServer(s, c)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	var token string
	switch f.tokenFile {
	case "":
	case "-":
		if token, err = readStdinToken(stdin); err != nil {
			return &ExitError{Code: 2, Err: err}
		}
	default:
		return &ExitError{Code: 2, Err: errors.New(`--token-file takes only "-" (the token on standard input)`)}
	}
	if s.MemoryLimit > 0 {
		debug.SetMemoryLimit(s.MemoryLimit)
	}
	ctx, stopSignals := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stopSignals()

	mx := metrics.New()
	mx.Tasks(metrics.WorkdirTasks(workdir.Dir(s.WorkingDir)))
	if err := service.EnsureServerTLS(s, workdir.Dir(s.WorkingDir), c); err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	se, err := service.Open(ctx, service.Options{Sys: s, Mode: c.Mode(s), Metrics: mx, Cluster: member, Token: token,
		TLS: service.TLSFiles(s, workdir.Dir(s.WorkingDir), c)})
	if err != nil {
		if ctx.Err() != nil {
			return nil // a signal while starting is no error
		}
		return err
	}
	defer se.Close()
	// /metrics and the web dashboard on httpListen.
	web, err := se.Web(mx)
	if err != nil {
		return err
	}
	se.Started(stderr)
	if err := se.Run(ctx, web...); err != nil {
		return &ExitError{Code: 1, Err: err}
	}
	se.Logs().Master.Info("service stopped")
	fmt.Fprintf(stderr, "%s ossimport service stopped\n", time.Now().Format(time.DateTime))
	return nil
}

// serviceControl is `ossimport service --status` and `--stop`.
func serviceControl(ctx context.Context, stdout, stderr io.Writer, f serviceFlags) error {
	s, err := loadValidSys(f.sys)
	if err != nil {
		return err
	}
	dir := workdir.Dir(s.WorkingDir)
	if f.stop {
		return service.Local{Sys: s, Stdout: stdout, Stderr: stderr}.Stop(ctx, service.StopWait)
	}
	pid, lock, err := service.Probe(ctx, dir, service.LockWait)
	lock.Release()
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	if pid == 0 {
		fmt.Fprintf(stderr, "the service is not running in %s\n", dir)
		return &ExitError{Code: service.StatusStopped}
	}
	fmt.Fprintf(stderr, "the service is running in %s (pid %d)\n", dir, pid)
	return nil
}
