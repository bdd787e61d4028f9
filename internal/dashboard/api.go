package dashboard

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ossimport/ossimport/internal/tracker"
)

// JobView is a job's status as the API shows it.
type JobView struct {
	tracker.JobStatus
	// ETASeconds is ETA in seconds (ETA itself is in nanoseconds).
	ETASeconds float64 `json:"etaSeconds"`
	// Error says why the status could not be read.
	Error string `json:"error,omitempty"`
	// Final: the job reached a final state (Succeed, Failed, Abort).
	Final bool `json:"final"`
	// Route is where the job copies from and to, without credentials;
	// nil when its folder keeps no job file.
	Route *Route `json:"route,omitempty"`
	// Started is when the job's scan started (the current round's for an
	// incremental job), EndedAt when a final job filed its last task;
	// ElapsedSeconds runs from Started to EndedAt, or to now.
	Started        time.Time `json:"started,omitzero"`
	EndedAt        time.Time `json:"ended,omitzero"`
	ElapsedSeconds float64   `json:"elapsedSeconds"`
	// CopyBytesPerSecond and ObjectsPerSecond are the job's rates over
	// the last sample period (bytes of copied objects, finished and in
	// flight; skipped objects are not counted); RateKnown is false
	// until two samples were taken.
	CopyBytesPerSecond float64 `json:"copyBytesPerSecond"`
	ObjectsPerSecond   float64 `json:"objectsPerSecond"`
	RateKnown          bool    `json:"rateKnown"`
}

// WorkerView is a worker as the API shows it.
type WorkerView struct {
	tracker.WorkerStatus
	// HeartbeatAgeSeconds is the time since the last heartbeat, by the
	// master's clock; -1 when there was none.
	HeartbeatAgeSeconds float64 `json:"heartbeatAgeSeconds"`
}

// Info is what the page needs to know about the service and the caller.
type Info struct {
	WorkingDir string `json:"workingDir"`
	TokenFile  string `json:"tokenFile,omitempty"`
	Version    string `json:"version,omitempty"`
	// HasToken: the service has a cluster token, so the actions can be
	// unlocked; Authorized: the request carried it.
	HasToken   bool `json:"hasToken"`
	Authorized bool `json:"authorized"`
	// ReadOnly explains why the caller cannot act, empty when it can.
	ReadOnly  string    `json:"readOnly,omitempty"`
	RefreshMs int64     `json:"refreshMs"`
	SampleMs  int64     `json:"sampleMs"`
	Now       time.Time `json:"now"`
}

// apiError is the body of every error answer.
type apiError struct {
	Error string `json:"error"`
	// ReadOnly is set when the error is that the caller may not act.
	ReadOnly bool `json:"readOnly,omitempty"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		data = []byte(`{"error":"cannot encode the answer"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(append(data, '\n'))
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, apiError{Error: msg})
}

// authorized reports whether r carries the cluster token. The digests
// have one length, so the comparison takes the same time whatever the
// token sent.
func (h *Handler) authorized(r *http.Request) bool {
	if h.opts.Token == "" || h.opts.Actions == nil {
		return false
	}
	got, ok := bearer(r)
	if !ok {
		return false
	}
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(h.opts.Token))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// readOnlyMessage explains how to unlock the actions.
func (h *Handler) readOnlyMessage() string {
	if h.opts.Token == "" || h.opts.Actions == nil {
		return "read-only: this service has no cluster token (its NATS is external); retry or clean with console.sh retry / console.sh clean"
	}
	where := h.opts.TokenFile
	if where == "" {
		where = "<workingDir>/nats/token"
	}
	return "read-only: enter the cluster token (in " + where + ") to retry or clean"
}

func (h *Handler) info(w http.ResponseWriter, r *http.Request) {
	in := Info{
		WorkingDir: string(h.opts.Dir), TokenFile: h.opts.TokenFile, Version: h.opts.Version,
		HasToken: h.opts.Token != "" && h.opts.Actions != nil, Authorized: h.authorized(r),
		RefreshMs: h.opts.Refresh.Milliseconds(), SampleMs: h.opts.SampleEvery.Milliseconds(), Now: h.opts.Now(),
	}
	if !in.Authorized {
		in.ReadOnly = h.readOnlyMessage()
	}
	writeJSON(w, http.StatusOK, in)
}

// statuses returns every job's status, read at most once per statusTTL.
func (h *Handler) statuses(fresh bool) []JobView {
	h.statusMu.Lock()
	defer h.statusMu.Unlock()
	now := h.opts.Now()
	if !fresh && h.status != nil && now.Sub(h.statusAt) < statusTTL && !now.Before(h.statusAt) {
		return h.status
	}
	jobs := tracker.Jobs(h.opts.Dir)
	rates := h.rates(now)
	out := make([]JobView, 0, len(jobs))
	for _, job := range jobs {
		st, err := tracker.ReadStatus(h.opts.Dir, job)
		v := JobView{JobStatus: st, ETASeconds: st.ETA.Seconds()}
		if err != nil {
			v.Error = err.Error()
		}
		v.Final = err == nil && st.Ended()
		v.describe(h.meta.meta(h.opts.Dir, job, v.Final), now, rates)
		out = append(out, v)
	}
	h.meta.keepOnly(jobs)
	h.status, h.statusAt = out, now
	return out
}

// describe sets what v shows besides the job's status: its route,
// start, end and elapsed time, and its rates from the newest sample
// (rates nil: none is recent).
func (v *JobView) describe(m jobMeta, now time.Time, rates map[string]Rate) {
	v.Route, v.Started = m.route, m.started
	if v.Final {
		v.EndedAt = m.ended
	}
	if !v.Started.IsZero() {
		end := now
		if v.Final {
			end = v.EndedAt
		}
		if !end.IsZero() {
			v.ElapsedSeconds = max(end.Sub(v.Started).Seconds(), 0)
		}
	}
	if rates != nil {
		r := rates[v.Name]
		v.CopyBytesPerSecond, v.ObjectsPerSecond, v.RateKnown = r.BytesPerSecond, r.ObjectsPerSecond, true
	}
}

// forget drops the statuses read last, after an action changed them.
func (h *Handler) forget() {
	h.statusMu.Lock()
	h.status = nil
	h.statusMu.Unlock()
}

func (h *Handler) jobs(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, struct {
		Jobs []JobView `json:"jobs"`
	}{h.statuses(false)})
}

// jobName returns the job named in the URL if the working directory
// holds it; otherwise it answers 404 and returns false. Only names
// tracker.Jobs lists pass, so no name reaches a path unchecked.
func (h *Handler) jobName(w http.ResponseWriter, r *http.Request) (string, bool) {
	name := r.PathValue("job")
	if name != "" && slices.Contains(tracker.Jobs(h.opts.Dir), name) {
		return name, true
	}
	writeError(w, http.StatusNotFound, fmt.Sprintf("no job named %q in the working directory", clip(name, 128)))
	return "", false
}

func (h *Handler) job(w http.ResponseWriter, r *http.Request) {
	name, ok := h.jobName(w, r)
	if !ok {
		return
	}
	for _, v := range h.statuses(false) {
		if v.Name == name {
			writeJSON(w, http.StatusOK, v)
			return
		}
	}
	// Submitted since the statuses were read.
	for _, v := range h.statuses(true) {
		if v.Name == name {
			writeJSON(w, http.StatusOK, v)
			return
		}
	}
	writeError(w, http.StatusNotFound, fmt.Sprintf("no job named %q in the working directory", name))
}

// Bounds of the failed-task listing.
const (
	defaultLines = 20
	maxLines     = 500
	maxTasks     = 100
)

func (h *Handler) failed(w http.ResponseWriter, r *http.Request) {
	name, ok := h.jobName(w, r)
	if !ok {
		return
	}
	lines := defaultLines
	if s := r.URL.Query().Get("lines"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxLines {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("lines must be a number from 1 to %d", maxLines))
			return
		}
		lines = n
	}
	list, err := ReadFailed(h.opts.Dir, name, maxTasks, lines)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, list)
}

func (h *Handler) jobConfig(w http.ResponseWriter, r *http.Request) {
	name, ok := h.jobName(w, r)
	if !ok {
		return
	}
	cfg, err := ReadJobConfig(h.opts.Dir, name)
	switch {
	case errors.Is(err, errNoJobFile):
		writeError(w, http.StatusNotFound, fmt.Sprintf("job %s: %v", name, err))
	case err != nil:
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("job %s: read the job file: %v", name, err))
	default:
		writeJSON(w, http.StatusOK, cfg)
	}
}

// Bounds of the log tail.
const (
	defaultLogLines = 100
	maxLogLines     = 1000
)

func (h *Handler) logs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	name := q.Get("name")
	if name == "" {
		name = "import"
	}
	if _, ok := LogNames[name]; !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no log named %q (the logs are %s)", clip(name, 64), strings.Join(logOrder, ", ")))
		return
	}
	lines := defaultLogLines
	if s := q.Get("lines"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxLogLines {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("lines must be a number from 1 to %d", maxLogLines))
			return
		}
		lines = n
	}
	tail, err := ReadLogTail(h.opts.Dir, name, lines)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, tail)
}

func (h *Handler) workers(w http.ResponseWriter, r *http.Request) {
	ws, err := tracker.ReadWorkers(h.opts.Dir)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	now := h.opts.Now()
	out := make([]WorkerView, 0, len(ws))
	for _, ws := range ws {
		v := WorkerView{WorkerStatus: ws, HeartbeatAgeSeconds: -1}
		if !ws.LastHeartbeat.IsZero() {
			v.HeartbeatAgeSeconds = max(now.Sub(ws.LastHeartbeat).Seconds(), 0)
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, struct {
		Workers []WorkerView `json:"workers"`
		Now     time.Time    `json:"now"`
	}{out, now})
}

// throughput serves the samples, oldest first; with since (RFC 3339)
// only those taken after it, so a page that has the rest asks only for
// what is new. Oldest is the time of the oldest sample kept, so a page
// whose samples are not in the history (the service restarted) starts
// again.
func (h *Handler) throughput(w http.ResponseWriter, r *http.Request) {
	all := h.hist.all()
	out := all
	if s := r.URL.Query().Get("since"); s != "" {
		since, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			writeError(w, http.StatusBadRequest, "since must be a time as RFC 3339 (2006-01-02T15:04:05Z)")
			return
		}
		i, _ := slices.BinarySearchFunc(all, since, func(s Sample, t time.Time) int {
			if s.Time.After(t) {
				return 1
			}
			return -1
		})
		out = all[i:]
	}
	var oldest time.Time
	if len(all) > 0 {
		oldest = all[0].Time
	}
	writeJSON(w, http.StatusOK, struct {
		IntervalSeconds float64   `json:"intervalSeconds"`
		WindowSeconds   float64   `json:"windowSeconds"`
		Oldest          time.Time `json:"oldest,omitzero"`
		Samples         []Sample  `json:"samples"`
	}{h.opts.SampleEvery.Seconds(), h.opts.History.Seconds(), oldest, out})
}

// actionTimeout bounds one action, as the console's verbs do.
const actionTimeout = 2 * time.Minute

// action serves POST /api/jobs/{job}/<verb>.
func (h *Handler) action(verb string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		log := h.opts.Logger.With("verb", verb, "remote", r.RemoteAddr)
		if h.opts.Token == "" || h.opts.Actions == nil {
			log.Warn("dashboard action refused: the dashboard is read-only")
			writeJSON(w, http.StatusForbidden, apiError{Error: h.readOnlyMessage(), ReadOnly: true})
			return
		}
		if !h.authorized(r) {
			why := "no token"
			if _, ok := bearer(r); ok {
				why = "wrong token"
			}
			log.Warn("dashboard action refused", "reason", why)
			w.Header().Set("WWW-Authenticate", `Bearer realm="ossimport"`)
			writeJSON(w, http.StatusUnauthorized, apiError{Error: h.readOnlyMessage(), ReadOnly: true})
			return
		}
		name, ok := h.jobName(w, r)
		if !ok {
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), actionTimeout)
		defer cancel()
		var reply Reply
		var err error
		switch verb {
		case "retry":
			reply, err = h.opts.Actions.Retry(ctx, name)
		default:
			reply, err = h.opts.Actions.Clean(ctx, name)
		}
		h.forget()
		if err != nil {
			log.Error("dashboard action failed", "job", name, "err", err)
			writeError(w, http.StatusBadGateway, fmt.Sprintf("%s job %s: %v", verb, name, err))
			return
		}
		log.Info("dashboard action", "job", name, "reply", reply.Message, "count", reply.Count)
		writeJSON(w, http.StatusOK, reply)
	}
}
