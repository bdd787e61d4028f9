package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/metrics"
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

// workersFile is the workers file the service reads: the one given, else
// the one next to sys.properties, else conf/workers.
func workersFile(flag string, s *config.Sys) string {
	switch {
	case flag != "":
		return flag
	case s.File() != "":
		return filepath.Join(filepath.Dir(s.File()), "workers")
	}
	return confFile("workers")
}

// isLocalHost reports whether a workers-file host is this machine.
func isLocalHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	if name, err := os.Hostname(); err == nil && strings.EqualFold(strings.TrimSuffix(host, "."), name) {
		return true
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false
	}
	if ip.IsLoopback() {
		return true
	}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return true
		}
	}
	return false
}

// runService runs the service until ctx ends, a signal or the console's
// stop. A graceful stop returns nil.
func runService(ctx context.Context, stdin io.Reader, stderr io.Writer, f serviceFlags) error {
	s, err := loadSysWarn(stderr, f.sys)
	if err != nil {
		return err
	}
	c, err := loadCluster(s, f.workers)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	member, err := embeddedServer(s, c)
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
	if err := ensureServerTLS(s, workdir.Dir(s.WorkingDir), c); err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	se, err := openService(ctx, serviceOptions{sys: s, mode: c.mode(s), metrics: mx, cluster: member, token: token,
		tls: tlsFiles(s, workdir.Dir(s.WorkingDir), c)})
	if err != nil {
		if ctx.Err() != nil {
			return nil // a signal while starting is no error
		}
		return err
	}
	defer se.close()
	var web []func(context.Context)
	if s.HTTPListen != "" {
		// /metrics and the web dashboard. A busy port stops the start:
		// the operator would otherwise read another program's page.
		ln, err := listenHTTP(s.HTTPListen)
		if err != nil {
			se.logs.master.Error("service cannot start", "err", err)
			return &ExitError{Code: 1, Err: err}
		}
		ws := newWebServer(se.dir, se.srv, se.mb, mx, se.logs.master, s.HTTPListen, s.HTTPAllowedHosts)
		web = append(web,
			func(ctx context.Context) { mx.WatchJobs(ctx, se.dir, se.mb, 10*time.Second) },
			func(ctx context.Context) { ws.serve(ctx, ln) })
	}
	se.started(stderr)
	if err := se.run(ctx, web...); err != nil {
		return &ExitError{Code: 1, Err: err}
	}
	se.logs.master.Info("service stopped")
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
		return stopService(ctx, stdout, stderr, s, stopWait)
	}
	pid, lock, err := probeService(ctx, dir, lockWait)
	lock.release()
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	if pid == 0 {
		fmt.Fprintf(stderr, "the service is not running in %s\n", dir)
		return &ExitError{Code: workerStoppedStatus}
	}
	fmt.Fprintf(stderr, "the service is running in %s (pid %d)\n", dir, pid)
	return nil
}
