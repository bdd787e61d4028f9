package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/metrics"
	"github.com/ossimport/ossimport/internal/service"
	"github.com/ossimport/ossimport/internal/workdir"
	"github.com/ossimport/ossimport/internal/worker"
)

type workerFlags struct {
	sys, nats, tokenFile, name string
	// status and stop act on the worker of this working directory
	// named --name instead of running one (console start and stop run
	// them on worker hosts over SSH).
	status, stop bool
}

func newWorkerCommand() *cobra.Command {
	var f workerFlags
	cmd := &cobra.Command{
		Use:    "worker",
		Hidden: true,
		Short:  "run a worker that takes tasks from a master's NATS",
		Long: `worker runs only the worker role: it connects to the master's NATS (--nats,
else natsUrl), takes tasks, copies and verifies their objects and reports
back, until it receives SIGTERM or SIGINT; running tasks are then handed
back. The token is read from a file (--token-file, e.g. a copy of the
master's <workingDir>/nats/token, mode 0600) or from standard input
(--token-file -), never from the command line where ps would show it;
without --token-file, natsCredsFile is used. Logs go to
<workingDir>/logs/worker.log.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runWorker(cmd.Context(), cmd.InOrStdin(), cmd.ErrOrStderr(), f)
		},
	}
	cmd.Flags().StringVar(&f.sys, "sys", "", "sys.properties (default conf/sys.properties when present)")
	cmd.Flags().StringVar(&f.nats, "nats", "", "the master's NATS, e.g. nats://10.0.0.1:4222 (default natsUrl)")
	cmd.Flags().StringVar(&f.tokenFile, "token-file", "", `file holding the NATS token or credentials; "-" reads the token from standard input`)
	cmd.Flags().StringVar(&f.name, "name", "", "worker name shown in stat (default: this machine's address towards the master)")
	cmd.Flags().BoolVar(&f.status, "status", false, "report whether the worker --name runs in this working directory (exit status 0: it runs, 3: it does not)")
	cmd.Flags().BoolVar(&f.stop, "stop", false, "stop the worker --name of this working directory (its tasks are handed back) and wait until it exits")
	return cmd
}

func runWorker(ctx context.Context, stdin io.Reader, stderr io.Writer, f workerFlags) error {
	s, err := loadSysWarn(stderr, f.sys)
	if err != nil {
		return err
	}
	if f.status || f.stop {
		return workerControl(ctx, stderr, workdir.Dir(s.WorkingDir), f)
	}
	o := service.ExternalConn(s, "")
	if f.nats != "" {
		o.URLs = f.nats
	}
	if o.URLs == "" {
		return &ExitError{Code: 2, Err: errors.New("no NATS to connect to: give --nats nats://<master>:4222 (or set natsUrl)")}
	}
	switch f.tokenFile {
	case "":
		if o.CredsFile == "" {
			return &ExitError{Code: 2, Err: errors.New("no NATS credentials: give --token-file (a copy of the master's <workingDir>/nats/token) or set natsCredsFile")}
		}
	case "-":
		if o.Token, err = readStdinToken(stdin); err != nil {
			return &ExitError{Code: 2, Err: err}
		}
		o.CredsFile = ""
	default:
		if _, err := os.Stat(f.tokenFile); err != nil {
			return &ExitError{Code: 2, Err: fmt.Errorf("token file: %w", err)}
		}
		o.CredsFile = f.tokenFile
	}
	if ca := service.AutoTLS(workdir.Dir(s.WorkingDir)).CA(); o.TLSCAFile == "" && strings.Contains(o.URLs, "tls://") {
		if _, err := os.Stat(ca); err != nil {
			return &ExitError{Code: 2, Err: fmt.Errorf("the master's NATS uses TLS (natsAutoTls), but this host has no CA certificate %s: run `console.sh deploy` on the master, or set natsTlsCaFile", ca)}
		}
		o.TLSCAFile = ca
	}
	name := f.name
	if name == "" {
		name = workerName(o.URLs)
	}
	o.Name = "ossimport-worker " + name

	dir := workdir.Dir(s.WorkingDir)
	lock, other, err := service.LockWorker(dir, name)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	if lock == nil {
		return &ExitError{Code: 1, Err: fmt.Errorf("worker %s already runs in %s (pid %d): stop it first (console.sh stop, or ossimport worker --stop --name %s)", name, dir, other, name)}
	}
	defer lock.Release()
	logger, closeLog, err := service.OpenLog(dir, workdir.WorkerLog, s)
	if err != nil {
		return err
	}
	defer closeLog()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	// The first connection fails at once (a wrong address should say so);
	// Setup waits out a cluster electing leaders.
	b, err := bus.Connect(ctx, o)
	if err != nil {
		return &ExitError{Code: 1, Err: err}
	}
	defer b.Close()
	so := service.SetupOptions(s)
	so.Retry = service.NATSRetry(logger, stderr)
	if err := b.Setup(ctx, so); err != nil {
		return &ExitError{Code: 1, Err: err}
	}
	var mx *metrics.Metrics
	if s.WorkerHTTPListen != "" {
		mx = metrics.New()
	}
	w, err := worker.New(worker.Options{Name: name, Bus: b, Settings: worker.SettingsFrom(s), Logger: logger, Metrics: mx})
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	// /metrics on workerHttpListen; not worth stopping the worker for.
	defer serveMetrics(ctx, stderr, logger, mx, s.WorkerHTTPListen)()
	logger.Info("worker started", "name", name, "nats", o.URLs, "pid", os.Getpid())
	fmt.Fprintf(stderr, "%s ossimport worker %s connected to %s\n", time.Now().Format(time.DateTime), name, o.URLs)
	if err := w.Run(ctx); err != nil {
		return &ExitError{Code: 1, Err: err}
	}
	logger.Info("worker stopped", "name", name)
	return nil
}

// workerName is this machine's address on the route to the first NATS
// URL (ossimport names workers by IP), else its host name.
func workerName(urls string) string {
	first, _, _ := strings.Cut(urls, ",")
	first = strings.TrimSpace(first)
	if !strings.Contains(first, "://") {
		first = "nats://" + first
	}
	if u, err := url.Parse(first); err == nil && u.Hostname() != "" {
		port := u.Port()
		if port == "" {
			port = fmt.Sprint(bus.DefaultPort)
		}
		// UDP "dial" sends nothing; it only picks the route and source address.
		if c, err := net.Dial("udp", net.JoinHostPort(u.Hostname(), port)); err == nil {
			addr := c.LocalAddr().(*net.UDPAddr)
			_ = c.Close()
			if !addr.IP.IsLoopback() {
				return addr.IP.String()
			}
		}
	}
	if h, err := os.Hostname(); err == nil {
		return h
	}
	return "worker"
}

// readStdinToken reads a NATS token from standard input (--token-file -).
func readStdinToken(stdin io.Reader) (string, error) {
	data, err := io.ReadAll(io.LimitReader(stdin, 64<<10))
	if err != nil {
		return "", fmt.Errorf("read the token from standard input: %w", err)
	}
	tok := strings.TrimSpace(string(data))
	if tok == "" {
		return "", errors.New("standard input holds no token")
	}
	return tok, nil
}

// workerControl is `ossimport worker --status` and `--stop`.
func workerControl(ctx context.Context, stderr io.Writer, dir workdir.Dir, f workerFlags) error {
	if f.name == "" {
		return &ExitError{Code: 2, Err: errors.New("--status and --stop need the worker's --name")}
	}
	if f.status {
		pid, err := service.WorkerRunning(dir, f.name)
		if err != nil {
			return &ExitError{Code: 2, Err: err}
		}
		if pid == 0 {
			fmt.Fprintf(stderr, "worker %s is not running in %s\n", f.name, dir)
			return &ExitError{Code: service.StatusStopped}
		}
		fmt.Fprintf(stderr, "worker %s is running in %s (pid %d)\n", f.name, dir, pid)
		return nil
	}
	pid, killed, err := service.StopWorker(ctx, dir, f.name, service.StopWait)
	switch {
	case err != nil:
		return &ExitError{Code: 1, Err: err}
	case pid == 0:
		fmt.Fprintf(stderr, "worker %s was not running\n", f.name)
	case killed:
		fmt.Fprintf(stderr, "worker %s (pid %d) did not stop within %s and was killed; its running tasks are redelivered after taskAckWait\n", f.name, pid, service.StopWait)
	default:
		fmt.Fprintf(stderr, "worker %s (pid %d) stopped\n", f.name, pid)
	}
	return nil
}
