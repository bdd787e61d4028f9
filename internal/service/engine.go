package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/job"
	"github.com/ossimport/ossimport/internal/master"
	"github.com/ossimport/ossimport/internal/metrics"
	"github.com/ossimport/ossimport/internal/workdir"
	"github.com/ossimport/ossimport/internal/worker"
)

// The one engine: `console start` (the service, in the background) and
// `ossimport run` (the service in one process, in the foreground, until
// its job ends) both assemble the same parts here: the working
// directory's lock and pid file, the embedded NATS server (or natsUrl's
// cluster), the master and tracker, and the in-process worker.

// Options configure one service process.
type Options struct {
	Sys  *config.Sys
	Mode Mode
	// Metrics, when set, is fed by the master and the worker.
	Metrics *metrics.Metrics
	// Resolve builds submitted jobs' specs (job.FromConfig when nil).
	Resolve job.Resolver
	// Cluster joins the embedded NATS server to the other hosts' of
	// natsEmbeddedCluster; nil runs it alone.
	Cluster *bus.ClusterOptions
	// Token, when set, is the cluster's NATS token, handed over by the
	// host that started the cluster: it replaces the working directory's.
	Token string
	// TLS is the embedded server's TLS (none when empty).
	TLS TLS
}

// Validate reports options the engine cannot run with.
func (o Options) Validate() error {
	if o.Sys == nil {
		return errors.New("service options: no sys.properties settings")
	}
	return nil
}

// options are Options under the engine's own names.
type options struct {
	sys     *config.Sys
	mode    Mode
	metrics *metrics.Metrics
	resolve job.Resolver
	cluster *bus.ClusterOptions
	token   string
	tls     TLS
}

// Logs are the roles' logs under <workingDir>/logs.
type Logs struct {
	Master, Tracker, Worker, Jobs *slog.Logger
}

// Service is an assembled service process, ready to run.
type Service struct {
	opts   options
	dir    workdir.Dir
	logs   logs
	srv    *bus.Server // nil with natsUrl
	where  string      // the NATS URLs, for messages
	mb     *bus.Bus
	master *master.Master
	worker *worker.Worker
	// cancel stops run (the console's stop verb).
	cancel context.CancelFunc

	closers []func()
}

// logs are Logs under the engine's own names.
type logs struct {
	master, tracker, worker, jobs *slog.Logger
}

// Logs returns the service's logs.
func (se *Service) Logs() Logs {
	return Logs{Master: se.logs.master, Tracker: se.logs.tracker, Worker: se.logs.worker, Jobs: se.logs.jobs}
}

// Dir is the service's working directory.
func (se *Service) Dir() workdir.Dir { return se.dir }

// EndSeen returns a channel closed when the master next sees a job
// reach a final state (master.EndSeen).
func (se *Service) EndSeen() <-chan struct{} { return se.master.EndSeen() }

// Bus is the master's connection.
func (se *Service) Bus() *bus.Bus { return se.mb }

// errInUse is a working directory held by another service or run.
type errInUse struct {
	dir workdir.Dir
	pid int
}

func (e *errInUse) Error() string {
	return fmt.Sprintf("the working directory %s is in use by %s (pid %d): wait for it to end, or stop it with `console.sh stop` (or kill %d); one working directory runs one service or one `ossimport run` at a time",
		e.dir, describeHolder(e.pid), e.pid, e.pid)
}

// describeHolder names what a process holding the working directory is,
// from its command line when the system shows it.
func describeHolder(pid int) string {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return "another ossimport process"
	}
	args := strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
	for _, a := range args[1:] {
		switch a {
		case "run":
			return "`ossimport run`"
		case "service":
			return "the import service"
		}
	}
	return "another ossimport process"
}

// Open takes the working directory's lock (refusing, with the holder's
// pid, when a service or a run holds it), writes the pid file, opens the
// logs, starts or reaches NATS and prepares the master and the worker.
// Close undoes it; Run runs it. Its errors are *Error.
func Open(ctx context.Context, o Options) (_ *Service, err error) {
	if err := o.Validate(); err != nil {
		return nil, &Error{Code: 2, Err: err}
	}
	opts := options{sys: o.Sys, mode: o.Mode, metrics: o.Metrics, resolve: o.Resolve, cluster: o.Cluster, token: o.Token, tls: o.TLS}
	s := opts.sys
	se := &Service{opts: opts, dir: workdir.Dir(s.WorkingDir)}
	defer func() {
		if err != nil {
			se.Close()
		}
	}()
	pid, lock, err := Probe(ctx, se.dir, LockWait)
	if err != nil {
		return nil, &Error{Code: 1, Err: err}
	}
	if pid > 0 {
		return nil, &Error{Code: 1, Err: &errInUse{dir: se.dir, pid: pid}}
	}
	se.closers = append(se.closers, lock.Release)
	// A pid file left behind is a predecessor that was killed (a
	// graceful stop removes it).
	prevPid := ReadPid(se.dir)
	crashed := prevPid > 0
	if err := writePid(se.dir, os.Getpid()); err != nil {
		return nil, &Error{Code: 2, Err: err}
	}
	se.closers = append(se.closers, func() { RemovePid(se.dir, os.Getpid()) })
	for _, l := range []struct {
		dst  **slog.Logger
		name string
	}{{&se.logs.master, workdir.MasterLog}, {&se.logs.tracker, workdir.TrackerLog}, {&se.logs.worker, workdir.WorkerLog}, {&se.logs.jobs, workdir.ImportLog}} {
		logger, closeLog, err := OpenLog(se.dir, l.name, s)
		if err != nil {
			return nil, err
		}
		*l.dst = logger
		se.closers = append(se.closers, closeLog)
	}
	fail := func(code int, err error) error {
		se.logs.master.Error("service cannot start", "err", err)
		return &Error{Code: code, Err: err}
	}
	conn := func(name string) bus.ConnOptions { return ExternalConn(s, name) }
	se.where = strings.Join(s.NATSURLs, ",")
	if len(s.NATSURLs) == 0 {
		if opts.token != "" {
			if err := bus.SetToken(se.dir.Token(), opts.token); err != nil {
				return nil, fail(1, err)
			}
		}
		srv, err := bus.StartServer(bus.ServerOptions{
			Dir: se.dir.NATS(), TokenFile: se.dir.Token(),
			Host: s.NATSListenAddr(opts.mode.distributed || opts.cluster != nil), Port: s.NATSPort,
			TLSCert: opts.tls.Cert, TLSKey: opts.tls.Key, TLSCAFile: serverCA(s, opts.tls),
			Logger: se.logs.master, Cluster: opts.cluster,
		})
		if err != nil {
			return nil, fail(1, err)
		}
		se.srv = srv
		se.closers = append(se.closers, srv.Shutdown)
		conn = func(name string) bus.ConnOptions {
			return bus.ConnOptions{Server: srv, Name: name, TLSCAFile: opts.tls.CA}
		}
		se.where = srv.ClientURL()
	}
	connect := func(name string) (*bus.Bus, error) {
		b, err := bus.Connect(ctx, conn(name))
		if err != nil {
			return nil, err
		}
		se.closers = append(se.closers, b.Close)
		if err := replicasError(ctx, b, s); err != nil {
			return nil, err
		}
		so := masterSetupOptions(s)
		so.Retry = NATSRetry(se.logs.master, nil)
		if opts.cluster != nil && so.Replicas == 0 {
			// natsEmbeddedCluster is three servers by definition: state
			// waits for a second one rather than start unreplicated.
			so.Replicas = config.EmbeddedClusterSize
		}
		if err := b.Setup(ctx, so); err != nil {
			return nil, err
		}
		return b, nil
	}
	if se.mb, err = connect("ossimport-master"); err != nil {
		return nil, fail(1, err)
	}
	if warns, err := replicationWarnings(ctx, se.mb, s, true); err == nil {
		for _, w := range warns {
			se.logs.master.Warn(w)
		}
	}
	mo := master.Options{
		Dir: se.dir, Bus: se.mb, Settings: master.SettingsFrom(s), Logger: se.logs.master, TrackerLogger: se.logs.tracker, JobLogger: se.logs.jobs,
		Stop: se.stop, Metrics: opts.metrics, Resolve: opts.resolve, Name: leaseName(os.Getpid()),
		Service: serviceID(os.Getpid()),
	}
	if crashed {
		mo.Predecessor = leaseName(prevPid)
	}
	se.master, err = master.New(mo)
	if err != nil {
		return nil, fail(2, err)
	}
	if crashed && se.srv != nil && !opts.mode.distributed && opts.cluster == nil {
		// Alone on its embedded server, no other worker can hold a task
		// the killed predecessor of this process was running: hand such
		// tasks out now rather than after taskAckWait. (A graceful stop
		// handed them back itself.)
		se.logs.master.Warn("the previous service or run of this working directory was killed; its running tasks are handed out again")
		if err := se.master.Reclaim(ctx); err != nil {
			return nil, fail(1, err)
		}
	}
	if opts.mode.worker != "" {
		wb, err := connect("ossimport-worker " + opts.mode.worker)
		if err != nil {
			return nil, fail(1, err)
		}
		se.worker, err = worker.New(worker.Options{Name: opts.mode.worker, Bus: wb, Settings: worker.SettingsFrom(s), Logger: se.logs.worker, Metrics: opts.metrics, Resolve: opts.resolve})
		if err != nil {
			return nil, fail(2, err)
		}
	}
	return se, nil
}

// leaseName names the service of process pid on this host in the master
// lease (stat shows it).
func leaseName(pid int) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return fmt.Sprintf("%s (pid %d)", host, pid)
}

// serviceID names the service of process pid on this host for the
// requests addressed to it alone (ping, stop), whichever service is the
// active master.
func serviceID(pid int) string {
	host, _ := os.Hostname()
	id := []byte(host + "_" + strconv.Itoa(pid))
	for i, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			id[i] = '-'
		}
	}
	return string(id)
}

// stop ends Run (the console's stop verb); before Run it does nothing.
func (se *Service) stop() {
	if se.cancel != nil {
		se.cancel()
	}
}

// Run runs the master, the worker and extra (the web server, say) until
// ctx ends, the console's stop, or one of them fails. Running tasks are
// handed back before it returns.
func (se *Service) Run(ctx context.Context, extra ...func(context.Context)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	se.cancel = cancel
	// The master stops after the worker: it files what the worker hands
	// back as it stops.
	mctx, mcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer mcancel()
	errc := make(chan error, 2)
	var wg, mwg sync.WaitGroup
	mwg.Go(func() { errc <- se.master.Run(mctx) })
	if se.worker != nil {
		wg.Go(func() { errc <- se.worker.Run(ctx) })
	}
	for _, f := range extra {
		wg.Go(func() { f(ctx) })
	}
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	cancel()
	wg.Wait()
	mcancel()
	mwg.Wait()
	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		se.logs.master.Error("service failed", "err", runErr)
		return fmt.Errorf("service failed: %w", runErr)
	}
	return nil
}

// Close stops NATS, closes the logs and releases the lock, in reverse
// order of opening.
func (se *Service) Close() {
	for i := len(se.closers) - 1; i >= 0; i-- {
		se.closers[i]()
	}
	se.closers = nil
}

// Started says, on stderr and in master.log, that the service runs.
func (se *Service) Started(stderr io.Writer) {
	se.logs.master.Info("service started", "pid", os.Getpid(), "nats", se.where, "mode", se.opts.mode.why, "worker", se.opts.mode.worker)
	fmt.Fprintf(stderr, "%s ossimport service started: pid %d, NATS %s, working directory %s, %s\n",
		time.Now().Format(time.DateTime), os.Getpid(), se.where, se.dir, se.opts.mode.why)
}
