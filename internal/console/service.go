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
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/master"
	"github.com/ossimport/ossimport/internal/metrics"
	"github.com/ossimport/ossimport/internal/workdir"
	"github.com/ossimport/ossimport/internal/worker"
)

func newServiceCommand() *cobra.Command {
	var sysPath, workersPath string
	cmd := &cobra.Command{
		Use:    "service",
		Hidden: true,
		Short:  "run the import service in the foreground (`console start` runs it in the background)",
		Long: `service runs the import service until it receives SIGTERM or SIGINT or the
console's stop: the embedded NATS server (unless natsUrl names a cluster),
the master and tracker, and in standalone mode (no conf/workers, or one that
lists only this machine) a worker named localhost. Logs go to
<workingDir>/logs/master.log, logs/tracker.log and logs/worker.log; the
process id to <workingDir>/ossimport.pid. Running tasks are handed back
when it stops.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runService(cmd.Context(), cmd.ErrOrStderr(), sysPath, workersPath)
		},
	}
	cmd.Flags().StringVar(&sysPath, "sys", "", "sys.properties (default conf/sys.properties when present)")
	cmd.Flags().StringVar(&workersPath, "workers", "", "workers file (default: workers next to sys.properties, when present)")
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
func runService(ctx context.Context, stderr io.Writer, sysPath, workersPath string) error {
	s, err := loadSysWarn(stderr, sysPath)
	if err != nil {
		return err
	}
	c, err := loadCluster(s, workersPath)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	mode := c.mode()
	if s.MemoryLimit > 0 {
		debug.SetMemoryLimit(s.MemoryLimit)
	}
	dir := workdir.Dir(s.WorkingDir)

	ctx, stopSignals := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	pid, lock, err := probeService(ctx, dir, lockWait)
	if err != nil {
		return &ExitError{Code: 1, Err: err}
	}
	if pid > 0 {
		return &ExitError{Code: 1, Err: fmt.Errorf("the import service is already running (pid %d, working directory %s): stop it first with `console.sh stop`", pid, dir)}
	}
	defer lock.release()
	if err := writePid(dir, os.Getpid()); err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	defer removePid(dir, os.Getpid())

	mlog, closeM, err := openSysLog(dir, "master.log", s)
	if err != nil {
		return err
	}
	defer closeM()
	tlog, closeT, err := openSysLog(dir, "tracker.log", s)
	if err != nil {
		return err
	}
	defer closeT()
	wlog, closeW, err := openSysLog(dir, "worker.log", s)
	if err != nil {
		return err
	}
	defer closeW()
	// fail ends a start that went wrong; a signal meanwhile is no error.
	fail := func(code int, err error) error {
		if ctx.Err() != nil {
			return nil
		}
		mlog.Error("service cannot start", "err", err)
		return &ExitError{Code: code, Err: err}
	}

	var srv *bus.Server
	conn := func(name string) bus.ConnOptions { return externalConn(s, name) }
	where := strings.Join(s.NATSURLs, ",")
	if len(s.NATSURLs) == 0 {
		srv, err = bus.StartServer(bus.ServerOptions{
			Dir: natsDir(dir), TokenFile: tokenFile(dir),
			Host: s.NATSListenAddr(mode.distributed), Port: s.NATSPort,
			TLSCert: s.NATSTLSCert, TLSKey: s.NATSTLSKey, TLSCAFile: s.NATSTLSCAFile,
			Logger: mlog,
		})
		if err != nil {
			return fail(1, err)
		}
		defer srv.Shutdown()
		conn = func(name string) bus.ConnOptions { return bus.ConnOptions{Server: srv, Name: name} }
		where = srv.ClientURL()
	}
	connect := func(name string) (*bus.Bus, error) {
		b, err := bus.Connect(ctx, conn(name))
		if err != nil {
			return nil, err
		}
		if err := b.Setup(ctx, masterSetupOptions(s)); err != nil {
			b.Close()
			return nil, err
		}
		return b, nil
	}

	mb, err := connect("ossimport-master")
	if err != nil {
		return fail(1, err)
	}
	defer mb.Close()
	mx := metrics.New()
	mx.Tasks(metrics.WorkdirTasks(dir))
	m, err := master.New(master.Options{Dir: dir, Bus: mb, Sys: s, Logger: mlog, TrackerLogger: tlog, Stop: cancel, Metrics: mx})
	if err != nil {
		return fail(2, err)
	}
	var w *worker.Worker
	if mode.worker != "" {
		wb, err := connect("ossimport-worker " + mode.worker)
		if err != nil {
			return fail(1, err)
		}
		defer wb.Close()
		if w, err = worker.New(worker.Options{Name: mode.worker, Bus: wb, Sys: s, Logger: wlog, Metrics: mx}); err != nil {
			return fail(2, err)
		}
	}

	errc := make(chan error, 2)
	var wg sync.WaitGroup
	wg.Go(func() { errc <- m.Run(ctx) })
	if w != nil {
		wg.Go(func() { errc <- w.Run(ctx) })
	}
	if s.HTTPListen != "" {
		wg.Go(func() { mx.WatchJobs(ctx, dir, mb, 10*time.Second) })
		// /metrics and the web dashboard; not worth stopping the service for.
		web := newWebServer(dir, srv, mb, mx, mlog)
		wg.Go(func() { web.run(ctx, s.HTTPListen) })
	}
	mlog.Info("service started", "pid", os.Getpid(), "nats", where, "mode", mode.why, "worker", mode.worker)
	fmt.Fprintf(stderr, "%s ossimport service started: pid %d, NATS %s, working directory %s, %s\n",
		time.Now().Format(time.DateTime), os.Getpid(), where, dir, mode.why)

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	cancel()
	wg.Wait()
	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		mlog.Error("service failed", "err", runErr)
		return &ExitError{Code: 1, Err: fmt.Errorf("service failed: %w", runErr)}
	}
	mlog.Info("service stopped")
	fmt.Fprintf(stderr, "%s ossimport service stopped\n", time.Now().Format(time.DateTime))
	return nil
}
