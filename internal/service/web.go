package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/dashboard"
	"github.com/ossimport/ossimport/internal/master"
	"github.com/ossimport/ossimport/internal/metrics"
	"github.com/ossimport/ossimport/internal/version"
	"github.com/ossimport/ossimport/internal/workdir"
)

// CheckJobName refuses what cannot be a job name (config's jobName rule),
// before it reaches a path or a subject.
func CheckJobName(name string) error {
	if !config.ValidJobName(name) {
		return fmt.Errorf("invalid job name %q: job names are 4 to 128 letters, digits, '_' or '-' (see `console.sh stat` for the jobs)", name)
	}
	return nil
}

// busActions are the dashboard's retry and clean, sent to the master as
// the console's verbs are.
type busActions struct{ b *bus.Bus }

func (a busActions) Retry(ctx context.Context, job string) (dashboard.Reply, error) {
	return a.request(ctx, master.VerbRetry, job)
}

func (a busActions) Clean(ctx context.Context, job string) (dashboard.Reply, error) {
	return a.request(ctx, master.VerbClean, job)
}

func (a busActions) request(ctx context.Context, verb, job string) (dashboard.Reply, error) {
	if err := CheckJobName(job); err != nil {
		return dashboard.Reply{}, err
	}
	out, err := a.b.Request(ctx, verb, []byte(job))
	if err != nil {
		return dashboard.Reply{}, err
	}
	var r master.Reply
	if err := json.Unmarshal(out, &r); err != nil {
		return dashboard.Reply{}, fmt.Errorf("undecodable reply to %s: %w", verb, err)
	}
	return dashboard.Reply{Message: r.Message, Count: r.Count}, nil
}

// webServer serves /metrics and the dashboard on httpListen.
type webServer struct {
	metrics http.Handler
	dash    *dashboard.Handler // nil when it could not be made
	log     *slog.Logger
	// listen and allowed are the names served (httpListen, httpAllowedHosts).
	listen  string
	allowed []string
}

// newWebServer prepares the service's HTTP server. The dashboard's
// actions need the cluster token of the embedded NATS server (srv); with
// an external NATS (srv nil) the dashboard is read-only.
func newWebServer(dir workdir.Dir, srv *bus.Server, mb *bus.Bus, mx *metrics.Metrics, log *slog.Logger, listen string, allowedHosts []string) *webServer {
	w := &webServer{metrics: mx.Handler(), log: log, listen: listen, allowed: allowedHosts}
	opts := dashboard.Options{
		Dir: dir, Actions: busActions{b: mb}, Logger: log.With("component", "dashboard"),
		Version: version.Get().Version, Listen: listen, AllowedHosts: allowedHosts,
	}
	if srv != nil {
		opts.Token, opts.TokenFile = srv.Token(), dir.Token()
	}
	dash, err := dashboard.New(opts)
	if err != nil {
		log.Warn("no web dashboard", "err", err)
	}
	w.dash = dash
	return w
}

// handler routes /metrics to the metrics and the rest to the dashboard.
func (w *webServer) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", w.metrics)
	if w.dash != nil {
		mux.Handle("/", w.dash)
	}
	return dashboard.HostGuard(w.listen, w.allowed, mux)
}

// listenHTTP listens on httpListen, saying what to do when the port is
// taken: 8086 is also InfluxDB's default port.
func listenHTTP(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("httpListen %s is in use by another program (another ossimport installation's dashboard, or InfluxDB, whose default port 8086 is): set httpListen in sys.properties to a free address, or leave it empty to serve no dashboard", addr)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot serve the dashboard on httpListen %s: %w", addr, err)
	}
	return ln, nil
}

// serve serves on ln until ctx ends. Errors are logged.
func (w *webServer) serve(ctx context.Context, ln net.Listener) {
	var wg sync.WaitGroup
	defer wg.Wait()
	if w.dash != nil {
		wg.Go(func() { w.dash.Run(ctx) })
	}
	w.log.Info("serving /metrics and the dashboard", "url", "http://"+ln.Addr().String()+"/")
	if err := metrics.ServeOn(ctx, ln, w.handler()); err != nil {
		w.log.Warn("HTTP server stopped", "httpListen", ln.Addr().String(), "err", err)
	}
}

// Web is what serves /metrics and the web dashboard on httpListen (with
// mx's jobs' gauges kept current), to be given to Run; nothing without
// httpListen. A busy port stops the start (an *Error): the operator
// would otherwise read another program's page.
func (se *Service) Web(mx *metrics.Metrics) ([]func(context.Context), error) {
	s := se.opts.sys
	if s.HTTPListen == "" {
		return nil, nil
	}
	ln, err := listenHTTP(s.HTTPListen)
	if err != nil {
		se.logs.master.Error("service cannot start", "err", err)
		return nil, &Error{Code: 1, Err: err}
	}
	ws := newWebServer(se.dir, se.srv, se.mb, mx, se.logs.master, s.HTTPListen, s.HTTPAllowedHosts)
	return []func(context.Context){
		func(ctx context.Context) { mx.WatchJobs(ctx, se.dir, se.mb, 10*time.Second) },
		func(ctx context.Context) { ws.serve(ctx, ln) },
	}, nil
}
