// Package dashboard is the web dashboard the master serves next to
// /metrics: one page (HTML, JavaScript and CSS embedded in the binary, no
// framework, nothing fetched from elsewhere) over a small JSON API.
//
//	GET  /                          the page
//	GET  /static/...                its script and style sheet
//	GET  /api/info                  working directory, whether the caller may act, refresh period
//	GET  /api/jobs                  the status of every job
//	GET  /api/jobs/{job}            the status of one job
//	GET  /api/jobs/{job}/failed     failed tasks with their error.list and audit.log lines (bounded)
//	GET  /api/jobs/{job}/config     the job file kept in the job's folder and its effective settings, secrets masked
//	GET  /api/workers               the workers the master last recorded
//	GET  /api/throughput            copy rate and objects per second over the last hour, in all, per job and per worker
//	GET  /api/logs?name=&lines=     the last lines of logs/import.log (or master, tracker, worker), secrets masked
//	POST /api/jobs/{job}/retry      requeue the failed tasks of a job
//	POST /api/jobs/{job}/clean      delete a job
//
// Everything is read from the working directory, so the page shows what
// `console stat` shows. Job statuses are read when a page asks (at most
// once per second); the throughput sampler (Run) reads only each job's
// counters file, and only when it changed, and the worker list, so its
// cost does not grow with the jobs' sizes. Reading needs no credentials; the two actions
// need the cluster token as "Authorization: Bearer <token>". Without a
// token (an external NATS) the dashboard is read-only.
package dashboard

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ossimport/ossimport/internal/workdir"
)

//go:embed static
var staticFiles embed.FS

// Reply is the answer of a control action, as the master gives it.
type Reply struct {
	Message string `json:"message"`
	// Count is what the action acted on (tasks requeued, say).
	Count int `json:"count"`
}

// Actions are the control actions of the running service; the console
// implements them with the master's bus connection.
type Actions interface {
	// Retry requeues the failed tasks of job.
	Retry(ctx context.Context, job string) (Reply, error)
	// Clean deletes job.
	Clean(ctx context.Context, job string) (Reply, error)
}

// Defaults of Options.
const (
	DefaultRefresh     = 2 * time.Second
	DefaultSampleEvery = 5 * time.Second
	DefaultHistory     = time.Hour
)

// Options configure a Handler.
type Options struct {
	// Dir is the working directory the jobs and workers are read from.
	Dir workdir.Dir
	// Actions retry and clean jobs; nil makes the dashboard read-only.
	Actions Actions
	// Token is the cluster token the actions need; empty makes the
	// dashboard read-only.
	Token string
	// TokenFile is where operators find the token, for the page's hint.
	TokenFile string
	// Logger receives the actions taken and refused; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Refresh is how often the page reloads its data (DefaultRefresh
	// when zero).
	Refresh time.Duration
	// SampleEvery is how often Run samples the throughput
	// (DefaultSampleEvery when zero), History how much of it is kept
	// (DefaultHistory when zero).
	SampleEvery time.Duration
	History     time.Duration
	// Version is shown on the page.
	Version string
	// Listen is the address the page is served on (httpListen) and
	// AllowedHosts the other names it answers to (httpAllowedHosts):
	// requests naming another host are refused (see HostGuard).
	Listen       string
	AllowedHosts []string
}

// Validate reports what is wrong with the options.
func (o *Options) Validate() error {
	var errs []error
	if o.Dir == "" {
		errs = append(errs, errors.New("dashboard: the working directory is required"))
	}
	if o.Token != "" && o.Actions == nil {
		errs = append(errs, errors.New("dashboard: a token needs the actions it unlocks"))
	}
	if strings.ContainsFunc(o.Token, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		errs = append(errs, errors.New("dashboard: the token holds spaces or control characters"))
	}
	if o.Refresh < 0 || o.SampleEvery < 0 || o.History < 0 {
		errs = append(errs, errors.New("dashboard: refresh, sample and history periods cannot be negative"))
	}
	if o.SampleEvery > 0 && o.History > 0 && o.History < o.SampleEvery {
		errs = append(errs, fmt.Errorf("dashboard: a history of %s is shorter than the sample period %s", o.History, o.SampleEvery))
	}
	return errors.Join(errs...)
}

// Handler serves the dashboard. Run samples the throughput it shows.
type Handler struct {
	opts Options
	root http.Handler

	// statusMu serialises reads of the working directory; the jobs read
	// last are reused for statusTTL.
	statusMu sync.Mutex
	statusAt time.Time
	status   []JobView

	hist *history
	meta *metaCache

	// sampleMu serialises Sample; stamps are the counters files it read
	// last.
	sampleMu sync.Mutex
	stamps   map[string]counterStamp
}

// statusTTL is how long one read of every job's status is reused: pages
// and the sampler asking at once cost one read.
const statusTTL = time.Second

// New returns the dashboard's handler.
func New(opts Options) (*Handler, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Refresh == 0 {
		opts.Refresh = DefaultRefresh
	}
	if opts.SampleEvery == 0 {
		opts.SampleEvery = DefaultSampleEvery
	}
	if opts.History == 0 {
		opts.History = DefaultHistory
	}
	if opts.History < opts.SampleEvery {
		opts.History = opts.SampleEvery
	}
	h := &Handler{opts: opts, hist: newHistory(int(opts.History/opts.SampleEvery) + 1), meta: newMetaCache()}

	static, err := fs.Sub(staticFiles, "static")
	if err != nil {
		return nil, fmt.Errorf("dashboard: embedded files: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", h.page)
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /api/info", h.info)
	mux.HandleFunc("GET /api/jobs", h.jobs)
	mux.HandleFunc("GET /api/jobs/{job}", h.job)
	mux.HandleFunc("GET /api/jobs/{job}/failed", h.failed)
	mux.HandleFunc("GET /api/jobs/{job}/config", h.jobConfig)
	mux.HandleFunc("GET /api/logs", h.logs)
	mux.HandleFunc("GET /api/workers", h.workers)
	mux.HandleFunc("GET /api/throughput", h.throughput)
	mux.HandleFunc("POST /api/jobs/{job}/retry", h.action("retry"))
	mux.HandleFunc("POST /api/jobs/{job}/clean", h.action("clean"))
	// Cross-site browser requests cannot act: the actions need a header
	// no form can send, and cross-origin unsafe requests are refused.
	h.root = HostGuard(opts.Listen, opts.AllowedHosts, secureHeaders(http.NewCrossOriginProtection().Handler(mux)))
	return h, nil
}

// ServeHTTP serves the page and the API.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.root.ServeHTTP(w, r) }

// Run samples the throughput every SampleEvery until ctx ends (see
// Sample for what it reads).
func (h *Handler) Run(ctx context.Context) {
	t := time.NewTicker(h.opts.SampleEvery)
	defer t.Stop()
	for {
		h.Sample()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// secureHeaders sets the headers every answer carries: the page runs its
// own script and style sheet only, talks to its own origin only, and is
// never framed.
func secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

// page serves index.html.
func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	data, err := staticFiles.ReadFile("static/index.html")
	if err != nil {
		writeError(w, http.StatusInternalServerError, "the page is missing from the binary")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(data)
}

// clip shortens s to n bytes for messages.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
