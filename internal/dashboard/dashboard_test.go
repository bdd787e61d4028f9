package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/testenv"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

const testToken = "c2VjcmV0LXRva2VuLWZvci10ZXN0cw"

// fakeActions records the actions asked of it.
type fakeActions struct {
	mu    sync.Mutex
	calls []string
	err   error
}

func (f *fakeActions) Retry(_ context.Context, job string) (Reply, error) {
	return f.do("retry " + job)
}

func (f *fakeActions) Clean(_ context.Context, job string) (Reply, error) {
	return f.do("clean " + job)
}

func (f *fakeActions) do(call string) (Reply, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
	if f.err != nil {
		return Reply{}, f.err
	}
	if strings.HasPrefix(call, "retry") {
		return Reply{Message: "Retry has been submitted.", Count: 1}, nil
	}
	return Reply{Message: "Clean job:" + strings.TrimPrefix(call, "clean ") + " completed."}, nil
}

func (f *fakeActions) taken() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// writeTask files a task of job in a state of dir with one result per
// code (objects beyond the codes have none yet); finish closes it as the
// worker does.
func writeTask(t *testing.T, dir workdir.Dir, job, state, worker, id string, keys []string, size int64, codes []transfer.Code, finish bool) {
	t.Helper()
	task := plan.Task{ID: id, Job: job}
	for _, k := range keys {
		task.Objects = append(task.Objects, transfer.Object{Key: k, Size: size})
		task.Bytes += size
	}
	w, err := record.Create(dir.Task(job, state, worker, id), task)
	if err != nil {
		t.Fatal(err)
	}
	for i, code := range codes {
		r := transfer.Result{Object: task.Objects[i], Code: code, Size: size, Bytes: size}
		if !code.OK() {
			r.Detail = "cause of " + string(code) + " for " + keys[i]
			r.Bytes = 0
		}
		if err := w.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	if finish {
		if _, err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return
	}
	// A running task: what it recorded so far is on disk.
	if err := w.Suspend(); err != nil {
		t.Fatal(err)
	}
}

// scanDone marks the job's scan finished.
func scanDone(t *testing.T, dir workdir.Dir, job string) {
	t.Helper()
	if err := workdir.SaveCheckpoint(dir.Checkpoint(job), &plan.Checkpoint{Job: job, Done: true}); err != nil {
		t.Fatal(err)
	}
}

// fixture is a working directory with job "alpha": one task succeeded,
// one failed, one running; and job "beta" with one pending task.
func fixture(t *testing.T) workdir.Dir {
	t.Helper()
	dir := workdir.Dir(filepath.Join(t.TempDir(), "wd"))
	scanDone(t, dir, "alpha")
	ok := []transfer.Code{transfer.Succeed, transfer.Succeed}
	writeTask(t, dir, "alpha", workdir.Succeed, "", "T1", []string{"a/1", "a/2"}, 100, ok, true)
	writeTask(t, dir, "alpha", workdir.Failed, "", "T2", []string{"b/1", "b/2", "b/3"}, 10,
		[]transfer.Code{transfer.Succeed, transfer.InvalidName, transfer.DownloadFailed}, true)
	writeTask(t, dir, "alpha", workdir.Dispatched, "localhost", "T3", []string{"c/1", "c/2"}, 50, []transfer.Code{transfer.Succeed}, false)
	if err := record.WriteTask(dir.Task("beta", workdir.Pending, "", "P1"), plan.Task{ID: "P1", Job: "beta",
		Objects: []transfer.Object{{Key: "x", Size: 7}}, Bytes: 7}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// newTest is a handler over dir with the test token and fake actions
// (token "" for a read-only one), logging into the returned buffer.
func newTest(t *testing.T, dir workdir.Dir, token string, opts ...func(*Options)) (*Handler, *fakeActions, *bytes.Buffer) {
	t.Helper()
	acts := &fakeActions{}
	var logs bytes.Buffer
	o := Options{Dir: dir, Actions: acts, Token: token, TokenFile: filepath.Join(string(dir), "nats", "token"),
		Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	for _, f := range opts {
		f(&o)
	}
	h, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return h, acts, &logs
}

// do serves one request and returns the answer.
func do(h http.Handler, method, target string, header map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	r.Host = "localhost:8086"
	for k, v := range header {
		r.Header.Set(k, v)
	}
	if host, ok := header["Host"]; ok {
		r.Host = host
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func decode[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %q: %v", w.Body.String(), err)
	}
	return v
}

func TestDashboardOptionsValidate(t *testing.T) {
	acts := &fakeActions{}
	tests := []struct {
		name string
		opts Options
		want string // part of the error, "" for none
	}{
		{"read-only", Options{Dir: "/wd"}, ""},
		{"with token", Options{Dir: "/wd", Actions: acts, Token: testToken}, ""},
		{"actions without token", Options{Dir: "/wd", Actions: acts}, ""},
		{"no dir", Options{}, "working directory is required"},
		{"token without actions", Options{Dir: "/wd", Token: testToken}, "needs the actions"},
		{"token with a space", Options{Dir: "/wd", Actions: acts, Token: "a b"}, "spaces or control"},
		{"negative refresh", Options{Dir: "/wd", Refresh: -time.Second}, "cannot be negative"},
		{"history shorter than a sample", Options{Dir: "/wd", SampleEvery: time.Minute, History: time.Second}, "shorter than the sample period"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.opts.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if _, nerr := New(tc.opts); (nerr == nil) != (err == nil) {
				t.Fatalf("New and Validate disagree: %v / %v", nerr, err)
			}
		})
	}
}

func TestDashboardAuth(t *testing.T) {
	dir := fixture(t)
	tokenFile := filepath.Join(string(dir), "nats", "token")
	tests := []struct {
		name     string
		token    string // the handler's; "" for read-only
		method   string
		target   string
		header   map[string]string
		code     int
		want     string // in the body
		acted    []string
		authInfo bool // GET /api/info with the same headers says authorized
	}{
		{name: "read without token", token: testToken, method: "GET", target: "/api/jobs", code: 200, want: `"name":"alpha"`},
		{name: "retry without token", token: testToken, method: "POST", target: "/api/jobs/alpha/retry", code: 401,
			want: "read-only: enter the cluster token (in " + tokenFile + ") to retry or clean"},
		{name: "clean without token", token: testToken, method: "POST", target: "/api/jobs/alpha/clean", code: 401, want: "read-only"},
		{name: "retry with a wrong token", token: testToken, method: "POST", target: "/api/jobs/alpha/retry",
			header: map[string]string{"Authorization": "Bearer " + testToken + "x"}, code: 401, want: "read-only"},
		{name: "retry with the token as basic auth", token: testToken, method: "POST", target: "/api/jobs/alpha/retry",
			header: map[string]string{"Authorization": "Basic " + testToken}, code: 401, want: "read-only"},
		{name: "retry with an empty bearer", token: testToken, method: "POST", target: "/api/jobs/alpha/retry",
			header: map[string]string{"Authorization": "Bearer "}, code: 401, want: "read-only"},
		{name: "retry with the token", token: testToken, method: "POST", target: "/api/jobs/alpha/retry",
			header: map[string]string{"Authorization": "Bearer " + testToken}, code: 200,
			want: `"message":"Retry has been submitted."`, acted: []string{"retry alpha"}, authInfo: true},
		{name: "clean with the token, scheme in lower case", token: testToken, method: "POST", target: "/api/jobs/beta/clean",
			header: map[string]string{"Authorization": "bearer " + testToken}, code: 200,
			want: "Clean job:beta completed.", acted: []string{"clean beta"}, authInfo: true},
		{name: "cross-site post with the token", token: testToken, method: "POST", target: "/api/jobs/alpha/retry",
			header: map[string]string{"Authorization": "Bearer " + testToken, "Sec-Fetch-Site": "cross-site"}, code: 403, authInfo: true},
		{name: "cross-origin post with the token", token: testToken, method: "POST", target: "/api/jobs/alpha/retry",
			header: map[string]string{"Authorization": "Bearer " + testToken, "Origin": "http://evil.example"}, code: 403, authInfo: true},
		{name: "read-only service", token: "", method: "POST", target: "/api/jobs/alpha/retry",
			header: map[string]string{"Authorization": "Bearer " + testToken}, code: 403, want: "read-only: this service has no cluster token"},
		{name: "read on a read-only service", token: "", method: "GET", target: "/api/jobs/alpha", code: 200, want: `"state":"Running"`},
		{name: "get on an action", token: testToken, method: "GET", target: "/api/jobs/alpha/retry",
			header: map[string]string{"Authorization": "Bearer " + testToken}, code: 405, authInfo: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, acts, logs := newTest(t, dir, tc.token)
			w := do(h, tc.method, tc.target, tc.header)
			if w.Code != tc.code || !strings.Contains(w.Body.String(), tc.want) {
				t.Fatalf("%s %s: %d %s, want %d with %q", tc.method, tc.target, w.Code, w.Body, tc.code, tc.want)
			}
			if got := acts.taken(); strings.Join(got, ",") != strings.Join(tc.acted, ",") {
				t.Fatalf("actions taken %v, want %v", got, tc.acted)
			}
			if w.Code == 401 && w.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			if w.Code == 401 || w.Code == 403 && tc.want != "" {
				if e := decode[apiError](t, w); !e.ReadOnly {
					t.Errorf("refusal %s does not say read-only", w.Body)
				}
			}
			info := decode[Info](t, do(h, "GET", "/api/info", tc.header))
			if info.Authorized != tc.authInfo || info.HasToken != (tc.token != "") || (info.ReadOnly == "") != info.Authorized {
				t.Fatalf("info %+v, want authorized=%v", info, tc.authInfo)
			}
			// The token never travels back, nor into the log.
			if strings.Contains(w.Body.String(), testToken) || strings.Contains(logs.String(), testToken) {
				t.Fatalf("the token leaked: body %s log %s", w.Body, logs)
			}
		})
	}
}

func TestDashboardJobNameTraversal(t *testing.T) {
	dir := fixture(t)
	// A folder that looks like a job outside master/jobs.
	outside := filepath.Join(filepath.Dir(string(dir)), "outside")
	w, err := record.Create(filepath.Join(outside, workdir.Failed, "S1"), plan.Task{ID: "S1", Objects: []transfer.Object{{Key: "secret-key"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Add(transfer.Result{Object: transfer.Object{Key: "secret-key"}, Code: transfer.UploadFailed}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	auth := map[string]string{"Authorization": "Bearer " + testToken}
	tests := []struct {
		method, target string
	}{
		{"GET", "/api/jobs/..%2F..%2F..%2Foutside/failed"},
		{"GET", "/api/jobs/%2E%2E%2F%2E%2E%2F%2E%2E%2Foutside"},
		{"GET", "/api/jobs/%2E%2E/failed"},
		{"GET", "/api/jobs/alpha%2F..%2F..%2F..%2Foutside/failed"},
		{"GET", "/api/jobs/nosuchjob/failed"},
		{"GET", "/api/jobs/nosuchjob"},
		{"GET", "/api/jobs/%00/failed"},
		{"POST", "/api/jobs/..%2F..%2F..%2Foutside/retry"},
		{"POST", "/api/jobs/%2E%2E/clean"},
		{"POST", "/api/jobs/nosuchjob/clean"},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			h, acts, _ := newTest(t, dir, testToken)
			w := do(h, tc.method, tc.target, auth)
			if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "no job named") {
				t.Fatalf("%d %s, want 404 no job named", w.Code, w.Body)
			}
			if strings.Contains(w.Body.String(), "secret-key") || strings.Contains(w.Body.String(), "S1") {
				t.Fatalf("the answer shows the folder outside the working directory: %s", w.Body)
			}
			if got := acts.taken(); len(got) > 0 {
				t.Fatalf("actions taken for %s: %v", tc.target, got)
			}
		})
	}
	// Paths with dot segments are cleaned by the mux, never served as is.
	h, _, _ := newTest(t, dir, testToken)
	if w := do(h, "GET", "/api/jobs/../../outside/failed", nil); w.Code == http.StatusOK {
		t.Fatalf("dot segments served: %s", w.Body)
	}
}

func TestDashboardJobs(t *testing.T) {
	dir := fixture(t)
	h, _, _ := newTest(t, dir, "")
	w := do(h, "GET", "/api/jobs", nil)
	got := decode[struct{ Jobs []JobView }](t, w)
	if len(got.Jobs) != 2 || got.Jobs[0].Name != "alpha" || got.Jobs[1].Name != "beta" {
		t.Fatalf("jobs %+v", got.Jobs)
	}
	a := got.Jobs[0]
	// alpha: T1 2/2 done, T2 3/3 done (2 failed), T3 1/2 done.
	if a.State != tracker.Running || a.Objects != (tracker.Progress{Done: 6, Total: 7}) || a.Failed != 1 || a.Dispatched != 1 ||
		a.FailedObjs != 2 || len(a.Running) != 1 || a.Running[0].Worker != "localhost" {
		t.Fatalf("alpha %+v", a)
	}
	one := decode[JobView](t, do(h, "GET", "/api/jobs/beta", nil))
	if one.Name != "beta" || one.Pending != 1 || one.State != tracker.Running {
		t.Fatalf("beta %+v", one)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("content type %q", ct)
	}
}

func TestDashboardFailedListing(t *testing.T) {
	dir := fixture(t)
	// T4: 7 objects, one copied, six failed (one key with a line break);
	// retried twice.
	keys := []string{"k/0", "k/1", "k/2", "k/3", "line\nbreak", "k/5", "k/6"}
	codes := []transfer.Code{transfer.Succeed, transfer.UploadFailed, transfer.SourceNotFound, transfer.SizeNotMatch,
		transfer.InvalidName, transfer.CheckFailed, transfer.DownloadFailed}
	writeTask(t, dir, "alpha", workdir.Failed, "", "T4", keys, 5, codes, true)
	if err := os.WriteFile(filepath.Join(dir.Task("alpha", workdir.Failed, "", "T4"), "RETRIES"), []byte("2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h, _, _ := newTest(t, dir, "")

	tests := []struct {
		name, query string
		code        int
		check       func(t *testing.T, l FailedList)
	}{
		{name: "default lines", code: 200, check: func(t *testing.T, l FailedList) {
			if l.Job != "alpha" || len(l.Tasks) != 2 || l.Tasks[0].ID != "T2" || l.Tasks[1].ID != "T4" || l.TasksOmitted != 0 {
				t.Fatalf("tasks %+v", l)
			}
			t2 := l.Tasks[0]
			if t2.Objects != 3 || strings.Join(t2.Errors, ",") != "b/2,b/3" || t2.ErrorsOmitted != 0 || len(t2.Audit) != 2 || t2.AuditOmitted != 0 {
				t.Fatalf("T2 %+v", t2)
			}
			if !regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d InvalidName b/2 Detail:cause of InvalidName for b/2$`).MatchString(t2.Audit[0]) {
				t.Fatalf("T2 audit line %q", t2.Audit[0])
			}
			if !strings.Contains(t2.Audit[1], " DownloadFailed b/3 Detail:cause of DownloadFailed") {
				t.Fatalf("T2 audit line %q", t2.Audit[1])
			}
			t4 := l.Tasks[1]
			if t4.Retries != 2 || t4.Objects != 7 || len(t4.Errors) != 6 || t4.Errors[3] != `"line\nbreak"` || len(t4.Audit) != 6 {
				t.Fatalf("T4 %+v", t4)
			}
			for _, line := range t4.Audit {
				if strings.Contains(line, " Succeed ") {
					t.Fatalf("a line of a copied object in the failure lines: %q", line)
				}
			}
		}},
		{name: "capped lines", query: "?lines=2", code: 200, check: func(t *testing.T, l FailedList) {
			t4 := l.Tasks[1]
			if l.Lines != 2 || strings.Join(t4.Errors, ",") != "k/1,k/2" || t4.ErrorsOmitted != 4 {
				t.Fatalf("T4 errors %q +%d", t4.Errors, t4.ErrorsOmitted)
			}
			// The last two failure lines, oldest first.
			if len(t4.Audit) != 2 || !strings.Contains(t4.Audit[0], " CheckFailed k/5 ") ||
				!strings.Contains(t4.Audit[1], " DownloadFailed k/6 ") || t4.AuditOmitted != 4 {
				t.Fatalf("T4 audit %q +%d", t4.Audit, t4.AuditOmitted)
			}
		}},
		{name: "zero lines", query: "?lines=0", code: 400},
		{name: "too many lines", query: "?lines=100000", code: 400},
		{name: "not a number", query: "?lines=x", code: 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := do(h, "GET", "/api/jobs/alpha/failed"+tc.query, nil)
			if w.Code != tc.code {
				t.Fatalf("%d %s, want %d", w.Code, w.Body, tc.code)
			}
			if tc.check != nil {
				tc.check(t, decode[FailedList](t, w))
			}
		})
	}

	// A job without failed tasks has an empty list, not null.
	w := do(h, "GET", "/api/jobs/beta/failed", nil)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"tasks":[]`) {
		t.Fatalf("beta: %d %s", w.Code, w.Body)
	}

	// More failed tasks than shown: the rest is counted.
	for _, id := range []string{"T5", "T6"} {
		writeTask(t, dir, "alpha", workdir.Failed, "", id, []string{id}, 1, []transfer.Code{transfer.UploadFailed}, true)
	}
	l, err := ReadFailed(dir, "alpha", 3, 1)
	if err != nil || len(l.Tasks) != 3 || l.TasksOmitted != 1 || l.Tasks[2].ID != "T5" {
		t.Fatalf("capped tasks: %+v %v", l, err)
	}
	// A task whose TASK file is unreadable is listed with the problem.
	if err := os.WriteFile(filepath.Join(dir.Task("alpha", workdir.Failed, "", "T5"), workdir.TaskFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err = ReadFailed(dir, "alpha", 10, 5)
	if err != nil || len(l.Tasks) != 4 || l.Tasks[2].Problem == "" || len(l.Tasks[2].Errors) != 1 {
		t.Fatalf("broken task: %+v %v", l, err)
	}
	if _, err := ReadFailed(dir, "alpha", 0, 5); err == nil {
		t.Fatal("zero tasks accepted")
	}
}

// writeCounters writes a job's counters file as the master's ledger
// does.
func writeCounters(t testing.TB, dir workdir.Dir, job string, doc tracker.CountersDoc) {
	t.Helper()
	doc.Version = tracker.CountersVersion
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := workdir.WriteFile(filepath.Join(dir.Job(job), workdir.CountersFile), data); err != nil {
		t.Fatal(err)
	}
}

// copied is a counters document of a job with pending tasks whose
// finished objects are n copies of bytes in all.
func copied(n, bytes int64) tracker.CountersDoc {
	var doc tracker.CountersDoc
	doc.Pending = 1
	doc.Finished.Copied, doc.Finished.Verified, doc.Finished.CopiedBytes = n, n, bytes
	return doc
}

func TestDashboardThroughputSampling(t *testing.T) {
	dir := workdir.Dir(t.TempDir())
	clk := &clock{t: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)}
	h, _, _ := newTest(t, dir, "", func(o *Options) {
		o.Now, o.SampleEvery, o.History = clk.Now, 5*time.Second, 20*time.Second
	})
	samples := func() []Sample {
		t.Helper()
		return decode[struct {
			IntervalSeconds float64
			WindowSeconds   float64
			Samples         []Sample
		}](t, do(h, "GET", "/api/throughput", nil)).Samples
	}
	writeCounters(t, dir, "j", copied(0, 0))
	h.Sample() // the baseline: no rate yet
	if s := samples(); len(s) != 0 {
		t.Fatalf("samples after the baseline: %+v", s)
	}

	steps := []struct {
		name    string
		write   func()
		advance time.Duration
		bps     float64
		ops     float64
		jobs    map[string]Rate
	}{
		{"4 objects of 1000 bytes in 5s", func() { writeCounters(t, dir, "j", copied(4, 4000)) }, 5 * time.Second, 800, 0.8,
			map[string]Rate{"j": {800, 0.8}}},
		{"nothing in 5s: the job has tasks, so it is listed", func() {}, 5 * time.Second, 0, 0, map[string]Rate{"j": {0, 0}}},
		{"a running task's progress counts (objects in flight included)", func() {
			doc := copied(4, 4000)
			doc.Running = []tracker.TaskProgress{{ID: "B", Worker: "w1", Bytes: tracker.Progress{Done: 500, Total: 1000}, Files: tracker.Progress{Done: 1, Total: 2}}}
			writeCounters(t, dir, "j", doc)
		}, 10 * time.Second, 50, 0.1, map[string]Rate{"j": {50, 0.1}}},
		{"skipped objects are no copies: objects/s only", func() {
			doc := copied(5, 4500)
			doc.Finished.Skipped, doc.Finished.SkippedBytes = 10, 100000
			writeCounters(t, dir, "j", doc)
		}, 5 * time.Second, 0, 2, map[string]Rate{"j": {0, 2}}},
		{"a new job counts from its second sample; one without a counters file never", func() {
			writeCounters(t, dir, "k", copied(10, 100))
			writeTask(t, dir, "nocounters", workdir.Succeed, "", "C", []string{"c/a"}, 10, []transfer.Code{transfer.Succeed}, true)
		}, 5 * time.Second, 0, 0, map[string]Rate{"j": {0, 0}}},
		{"a cleaned job takes nothing away", func() {
			if err := os.RemoveAll(dir.Job("j")); err != nil {
				t.Fatal(err)
			}
			writeCounters(t, dir, "k", copied(15, 600))
		}, 5 * time.Second, 100, 1, map[string]Rate{"k": {100, 1}}},
	}
	for i, st := range steps {
		st.write()
		clk.Add(st.advance)
		h.Sample()
		s := samples()
		want := min(i+1, 5) // the history holds 20s/5s + 1 samples
		if len(s) != want {
			t.Fatalf("%s: %d samples, want %d", st.name, len(s), want)
		}
		last := s[len(s)-1]
		if !last.Time.Equal(clk.Now()) || last.BytesPerSecond != st.bps || last.ObjectsPerSecond != st.ops {
			t.Fatalf("%s: sample %+v, want %v B/s %v objects/s", st.name, last, st.bps, st.ops)
		}
		if fmt.Sprint(last.Jobs) != fmt.Sprint(st.jobs) {
			t.Fatalf("%s: per job %v, want %v", st.name, last.Jobs, st.jobs)
		}
	}
	// The job view shows the newest sample's rates while it is recent.
	if v := decode[JobView](t, do(h, "GET", "/api/jobs/k", nil)); !v.RateKnown || v.CopyBytesPerSecond != 100 || v.ObjectsPerSecond != 1 {
		t.Fatalf("job k: rate known %v, %v B/s, %v objects/s", v.RateKnown, v.CopyBytesPerSecond, v.ObjectsPerSecond)
	}

	// A counters file unchanged (size and time) is not read again: garbage
	// of the same size and time is not noticed.
	path := filepath.Join(dir.Job("k"), workdir.CountersFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, bytes.Repeat([]byte("x"), int(fi.Size())), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	clk.Add(5 * time.Second)
	h.Sample()
	if last := samples()[4]; last.BytesDone != 600 || last.ObjectsDone != 15 || last.Jobs["k"] != (Rate{}) {
		t.Fatalf("after an unchanged counters file: %+v", last)
	}

	// The workers' heartbeats are sampled too.
	ws := []tracker.WorkerStatus{{Name: "w1", Alive: true, Running: 3, BytesPerSecond: 2048}, {Name: "w2", Stopped: true}}
	if err := tracker.WriteWorkers(dir, ws); err != nil {
		t.Fatal(err)
	}
	clk.Add(5 * time.Second)
	h.Sample()
	s := h.Samples()
	want := map[string]WorkerSample{"w1": {BytesPerSecond: 2048, Running: 3, Alive: true}, "w2": {}}
	if len(s) != 5 || fmt.Sprint(s[4].Workers) != fmt.Sprint(want) {
		t.Fatalf("worker samples %+v, want %v", s[4].Workers, want)
	}
	// The ring keeps the newest samples, oldest first.
	for i := 1; i < len(s); i++ {
		if !s[i].Time.After(s[i-1].Time) {
			t.Fatalf("samples out of order: %+v", s)
		}
	}
	if !s[4].Time.Equal(clk.Now()) || s[0].Time != clk.Now().Add(-20*time.Second) {
		t.Fatalf("ring holds %v .. %v, want the last 20s to %v", s[0].Time, s[4].Time, clk.Now())
	}

	// A page that has the samples up to one asks only for the newer ones.
	since := decode[struct{ Samples []Sample }](t, do(h, "GET", "/api/throughput?since="+s[2].Time.Format(time.RFC3339Nano), nil)).Samples
	if len(since) != 2 || !since[0].Time.Equal(s[3].Time) || !since[1].Time.Equal(s[4].Time) {
		t.Fatalf("samples since %v: %+v", s[2].Time, since)
	}
	if since := decode[struct{ Samples []Sample }](t, do(h, "GET", "/api/throughput?since="+s[4].Time.Format(time.RFC3339Nano), nil)).Samples; len(since) != 0 {
		t.Fatalf("samples since the newest: %+v", since)
	}
	if w := do(h, "GET", "/api/throughput?since=yesterday", nil); w.Code != 400 {
		t.Fatalf("since=yesterday: %d %s", w.Code, w.Body)
	}

	// Without a recent sample (the sampler stopped), no rate is shown.
	clk.Add(11 * time.Second)
	h.forget()
	if v := decode[JobView](t, do(h, "GET", "/api/jobs/k", nil)); v.RateKnown || v.CopyBytesPerSecond != 0 {
		t.Fatalf("job k without a recent sample: %+v", v)
	}

	// Run samples at once and stops with its context.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.Run(ctx); close(done) }()
	testenv.Wait(t, 10*time.Second, "Run to take a sample", func() bool {
		s := h.Samples()
		return s[len(s)-1].Time.Equal(clk.Now())
	})
	cancel()
	<-done
}

func TestDashboardWorkers(t *testing.T) {
	dir := workdir.Dir(t.TempDir())
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	ws := []tracker.WorkerStatus{
		{Name: "w2", LastHeartbeat: now.Add(-90 * time.Second), Since: now.Add(-time.Hour)},
		{Name: "localhost", Alive: true, LastHeartbeat: now.Add(-3 * time.Second), Running: 2, BytesPerSecond: 1234, Version: "v1", Since: now.Add(-time.Hour)},
	}
	h, _, _ := newTest(t, dir, "", func(o *Options) { o.Now = func() time.Time { return now } })
	if got := decode[struct{ Workers []WorkerView }](t, do(h, "GET", "/api/workers", nil)); len(got.Workers) != 0 {
		t.Fatalf("workers before the master wrote any: %+v", got)
	}
	if err := tracker.WriteWorkers(dir, ws); err != nil {
		t.Fatal(err)
	}
	got := decode[struct{ Workers []WorkerView }](t, do(h, "GET", "/api/workers", nil)).Workers
	if len(got) != 2 || got[0].Name != "localhost" || !got[0].Alive || got[0].HeartbeatAgeSeconds != 3 || got[0].Running != 2 ||
		got[0].BytesPerSecond != 1234 || got[1].Name != "w2" || got[1].Alive || got[1].HeartbeatAgeSeconds != 90 {
		t.Fatalf("workers %+v", got)
	}
	if err := os.WriteFile(tracker.WorkersFile(dir), []byte("not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if w := do(h, "GET", "/api/workers", nil); w.Code != 500 || !strings.Contains(w.Body.String(), "worker list") {
		t.Fatalf("broken worker list: %d %s", w.Code, w.Body)
	}
}

func TestDashboardActionFails(t *testing.T) {
	dir := fixture(t)
	h, acts, logs := newTest(t, dir, testToken)
	acts.err = errors.New("bus: no master answers")
	w := do(h, "POST", "/api/jobs/alpha/retry", map[string]string{"Authorization": "Bearer " + testToken})
	if w.Code != http.StatusBadGateway || !strings.Contains(w.Body.String(), "retry job alpha: bus: no master answers") {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if !strings.Contains(logs.String(), "dashboard action failed") || strings.Contains(logs.String(), testToken) {
		t.Fatalf("log: %s", logs)
	}
}

func TestDashboardStaticAssets(t *testing.T) {
	h, _, _ := newTest(t, workdir.Dir(t.TempDir()), "")
	tests := []struct {
		target, ctype, want string
	}{
		{"/", "text/html", `<script src="static/app.js"`},
		{"/static/app.js", "javascript", "sessionStorage"},
		{"/static/app.css", "text/css", ".job"},
	}
	for _, tc := range tests {
		w := do(h, "GET", tc.target, nil)
		if w.Code != 200 || !strings.Contains(w.Header().Get("Content-Type"), tc.ctype) || !strings.Contains(w.Body.String(), tc.want) {
			t.Fatalf("%s: %d %q %.200s", tc.target, w.Code, w.Header().Get("Content-Type"), w.Body)
		}
		if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Fatalf("%s: CSP %q", tc.target, csp)
		}
	}
	if w := do(h, "GET", "/nothing", nil); w.Code != 404 {
		t.Fatalf("/nothing: %d", w.Code)
	}
	if w := do(h, "GET", "/api/nothing", nil); w.Code != 404 {
		t.Fatalf("/api/nothing: %d %s", w.Code, w.Body)
	}
	// Works offline: nothing is loaded from another origin.
	url := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
	err := fs.WalkDir(staticFiles, "static", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := staticFiles.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range url.FindAllString(string(data), -1) {
			if m != "http://www.w3.org" { // the SVG namespace, never fetched
				t.Errorf("%s refers to %s", path, m)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
