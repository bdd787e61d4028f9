package dashboard

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/workdir"
)

// Secrets of the job file of the panel tests; none may reach an answer.
const (
	testSrcSecret  = "SRC-s3cr3t-0123456789abcdef"
	testDestSecret = "DEST-s3cr3t-0123456789abcdef"
	testDestKey    = "AKIDdestaccesskey0123"
	testURLSecret  = "pa55word-in-the-url"
	testTunnel     = "tunnel-t0ken-0123456789"
)

// jobFile is a job file as submitted, secrets in the clear.
var jobFile = strings.Join([]string{
	"jobName=alpha",
	"srcType=local",
	"srcPrefix=/data/photos/",
	"destType=s3",
	"destAccessKey=" + testDestKey,
	"destSecretKey=" + testDestSecret,
	"srcSecretKey=" + testSrcSecret,
	"destDomain=https://user:" + testURLSecret + "@s3.example.com:9000/?X-Amz-Signature=" + testURLSecret,
	"destBucket=backup",
	"destPrefix=photos/2026/",
	"expressTunnelAuthToken=" + testTunnel,
	"taskObjectCountLimit=10",
	"",
}, "\n")

// assertNoSecret fails when text holds one of the job file's secrets.
func assertNoSecret(t *testing.T, what, text string) {
	t.Helper()
	for _, s := range []string{testSrcSecret, testDestSecret, testDestKey, testURLSecret, testTunnel} {
		if strings.Contains(text, s) {
			t.Fatalf("%s shows the secret %q:\n%s", what, s, text)
		}
	}
}

// keepJobFile writes the job file into the job's folder the way the
// console does (masked), or unmasked when raw is set (an older writer:
// the dashboard masks again).
func keepJobFile(t *testing.T, dir workdir.Dir, job, text string) {
	t.Helper()
	if err := workdir.WriteFile(dir.JobFile(job), []byte(text)); err != nil {
		t.Fatal(err)
	}
}

func TestDashboardJobRouteAndTimes(t *testing.T) {
	dir := fixture(t)
	keepJobFile(t, dir, "alpha", jobFile)
	started := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	now := started.Add(90 * time.Second)
	if err := workdir.SaveCheckpoint(dir.Checkpoint("alpha"), &plan.Checkpoint{Job: "alpha", Done: true, Started: started.UnixMilli()}); err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: now}
	h, _, _ := newTest(t, dir, "", func(o *Options) { o.Now = clk.Now })

	w := do(h, "GET", "/api/jobs", nil)
	assertNoSecret(t, "/api/jobs", w.Body.String())
	jobs := decode[struct{ Jobs []JobView }](t, w).Jobs
	a, b := jobs[0], jobs[1]
	want := Route{
		Source:      Endpoint{Type: "local", Prefix: "/data/photos/"},
		Destination: Endpoint{Type: "s3", Endpoint: "https://s3.example.com:9000/", Bucket: "backup", Prefix: "photos/2026/"},
	}
	if a.Route == nil || *a.Route != want {
		t.Fatalf("alpha route %+v, want %+v", a.Route, want)
	}
	if !a.Started.Equal(started) || a.ElapsedSeconds != 90 || a.Final || !a.EndedAt.IsZero() {
		t.Fatalf("alpha running: started %v elapsed %v final %v ended %v", a.Started, a.ElapsedSeconds, a.Final, a.EndedAt)
	}
	// No job file, no checkpoint: no route, no start.
	if b.Route != nil || !b.Started.IsZero() || b.ElapsedSeconds != 0 || !b.EndedAt.IsZero() {
		t.Fatalf("beta %+v", b)
	}
	// No rate before the sampler ran.
	if a.RateKnown {
		t.Fatalf("alpha has a rate before any sample: %+v", a)
	}

	// The job ends when its last task is filed: the end is then, and the
	// elapsed time stops there.
	if err := os.RemoveAll(dir.Task("alpha", workdir.Dispatched, "localhost", "T3")); err != nil {
		t.Fatal(err)
	}
	ended := started.Add(2 * time.Minute)
	writeTask(t, dir, "alpha", workdir.Succeed, "", "T3", []string{"c/1", "c/2"}, 50, nil, true)
	mtimes := map[string]time.Time{workdir.Succeed: ended, workdir.Failed: ended.Add(-time.Minute)}
	for state, mt := range mtimes {
		if err := os.Chtimes(filepath.Join(dir.Job("alpha"), state), mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	clk.Add(time.Hour)
	h.forget()
	a = decode[JobView](t, do(h, "GET", "/api/jobs/alpha", nil))
	if a.State != "Failed" || !a.Final || !a.EndedAt.Equal(ended) || a.ElapsedSeconds != 120 {
		t.Fatalf("alpha ended: state %s final %v ended %v elapsed %v, want Failed ended %v after 120s (not to now)",
			a.State, a.Final, a.EndedAt, a.ElapsedSeconds, ended)
	}

	// A changed job file is read again.
	keepJobFile(t, dir, "alpha", strings.Replace(jobFile, "destBucket=backup", "destBucket=archive-bucket", 1))
	h.forget()
	if a := decode[JobView](t, do(h, "GET", "/api/jobs/alpha", nil)); a.Route == nil || a.Route.Destination.Bucket != "archive-bucket" {
		t.Fatalf("route after the job file changed: %+v", a.Route)
	}
}

func TestDashboardMaskEndpoint(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"oss-cn-hangzhou.aliyuncs.com", "oss-cn-hangzhou.aliyuncs.com"},
		{"https://oss-cn-hangzhou.aliyuncs.com", "https://oss-cn-hangzhou.aliyuncs.com"},
		{"http://ak:sk@127.0.0.1:7070", "http://127.0.0.1:7070"},
		{"http://127.0.0.1:7070/?token=abc#frag", "http://127.0.0.1:7070/"},
		{"user:secret@host.example.com", "host.example.com"},
		{"host.example.com?sig=abc", "host.example.com"},
	}
	for _, tc := range tests {
		if got := maskEndpoint(tc.in); got != tc.want {
			t.Errorf("maskEndpoint(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDashboardJobConfig(t *testing.T) {
	dir := fixture(t)
	// Kept unmasked (an older writer): the answer is masked all the same.
	keepJobFile(t, dir, "alpha", jobFile)
	h, _, _ := newTest(t, dir, "")
	w := do(h, "GET", "/api/jobs/alpha/config", nil)
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	assertNoSecret(t, "/api/jobs/alpha/config", w.Body.String())
	cfg := decode[JobConfig](t, w)
	if cfg.Job != "alpha" || cfg.File != filepath.Join("master", "jobs", "alpha", "job.cfg") {
		t.Fatalf("config of %q from %q", cfg.Job, cfg.File)
	}
	for _, want := range []string{"destSecretKey=****\n", "srcSecretKey=****\n", "destAccessKey=****\n", "destBucket=backup\n", "taskObjectCountLimit=10\n"} {
		if !strings.Contains(cfg.Text, want) {
			t.Errorf("job file text lacks %q:\n%s", want, cfg.Text)
		}
	}
	got := map[string]Setting{}
	for _, s := range cfg.Settings {
		got[s.Key] = s
	}
	checks := []struct {
		key, value, source string
		def                bool
	}{
		{"destBucket", "backup", "job.cfg:9", false},
		{"taskObjectCountLimit", "10", "job.cfg:12", false},
		{"destSecretKey", "****", "job.cfg:6", false},
		{"expressTunnelAuthToken", "****", "job.cfg:11", false},
		{"isSkipExistFile", "false", "default", true},
	}
	for _, c := range checks {
		s, ok := got[c.key]
		if !ok || s.Value != c.value || s.Source != c.source || s.Default != c.def {
			t.Errorf("setting %s: %+v, want %q from %s (default %v)", c.key, s, c.value, c.source, c.def)
		}
	}
	if cfg.Route.Destination.Endpoint != "https://s3.example.com:9000/" {
		t.Errorf("route %+v", cfg.Route)
	}

	// A job whose folder keeps no job file, and one that does not exist.
	if w := do(h, "GET", "/api/jobs/beta/config", nil); w.Code != 404 || !strings.Contains(w.Body.String(), "no job file is kept") {
		t.Fatalf("beta: %d %s", w.Code, w.Body)
	}
	if w := do(h, "GET", "/api/jobs/..%2F..%2Fetc/config", nil); w.Code != 404 || !strings.Contains(w.Body.String(), "no job named") {
		t.Fatalf("traversal: %d %s", w.Code, w.Body)
	}
}

// writeLog writes a log file of the working directory.
func writeLog(t *testing.T, dir workdir.Dir, name, text string) {
	t.Helper()
	if err := os.MkdirAll(dir.Logs(), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir.Logs(), name), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDashboardLogTail(t *testing.T) {
	dir := workdir.Dir(t.TempDir())
	h, _, _ := newTest(t, dir, "")
	type tail = LogTail
	get := func(target string) (int, tail, string) {
		w := do(h, "GET", target, nil)
		if w.Code != 200 {
			return w.Code, tail{}, w.Body.String()
		}
		return w.Code, decode[tail](t, w), w.Body.String()
	}

	// Before the service wrote it.
	if code, tl, body := get("/api/logs"); code != 200 || !tl.Missing || tl.Name != "import" || len(tl.Lines) != 0 || !strings.Contains(body, `"lines":[]`) {
		t.Fatalf("missing log: %d %s", code, body)
	}

	var b strings.Builder
	for i := range 300 {
		fmt.Fprintf(&b, "time=2026-05-01T10:00:%02d level=INFO msg=\"object failed\" job=alpha key=k/%d\n", i%60, i)
	}
	b.WriteString("time=2026-05-01T10:01:00 level=WARN msg=\"retry\" detail=\"Authorization: AWS4-HMAC-SHA256 Credential=AKID/x, Signature=abc\" <script>alert(1)</script>\n")
	writeLog(t, dir, "import.log", b.String())
	writeLog(t, dir, "master.log", "time=2026-05-01T10:00:00 level=INFO msg=\"service started\"\n")

	code, tl, body := get("/api/logs")
	if code != 200 || len(tl.Lines) != defaultLogLines || tl.File != filepath.Join("logs", "import.log") || tl.Missing {
		t.Fatalf("default tail: %d %d lines from %s", code, len(tl.Lines), tl.File)
	}
	last := tl.Lines[len(tl.Lines)-1]
	if !strings.Contains(last, "<script>alert(1)</script>") || strings.Contains(last, "AWS4-HMAC-SHA256 Credential") || !strings.Contains(last, "Authorization: ***") {
		t.Fatalf("last line %q: the page escapes it, the API masks its secrets", last)
	}
	if !strings.Contains(tl.Lines[0], "key=k/201") {
		t.Fatalf("first of the last 100 lines: %q", tl.Lines[0])
	}
	if strings.Contains(body, "<script>") {
		t.Fatalf("the JSON answer carries markup unescaped: %s", body)
	}

	if _, tl, _ := get("/api/logs?name=master&lines=5"); len(tl.Lines) != 1 || !strings.Contains(tl.Lines[0], "service started") || tl.Name != "master" {
		t.Fatalf("master log: %+v", tl)
	}
	if _, tl, _ := get("/api/logs?lines=3"); len(tl.Lines) != 3 || !strings.Contains(tl.Lines[0], "key=k/298") {
		t.Fatalf("3 lines: %q", tl.Lines)
	}
	for _, target := range []string{"/api/logs?name=../../etc/passwd", "/api/logs?name=ossimport"} {
		if w := do(h, "GET", target, nil); w.Code != 404 || !strings.Contains(w.Body.String(), "no log named") {
			t.Fatalf("%s: %d %s", target, w.Code, w.Body)
		}
	}
	for _, target := range []string{"/api/logs?lines=0", "/api/logs?lines=1001", "/api/logs?lines=x"} {
		if w := do(h, "GET", target, nil); w.Code != 400 {
			t.Fatalf("%s: %d %s", target, w.Code, w.Body)
		}
	}

	// A large log: only its end is read; the cut first line is left out.
	big := strings.Repeat("x", maxTailBytes) + "\nline one\nline two\n"
	writeLog(t, dir, "worker.log", big)
	if _, tl, _ := get("/api/logs?name=worker&lines=1000"); len(tl.Lines) != 2 || tl.Lines[0] != "line one" || tl.Size != int64(len(big)) {
		t.Fatalf("large log: %d lines %.40q", len(tl.Lines), tl.Lines)
	}
	// A long line is cut.
	writeLog(t, dir, "tracker.log", strings.Repeat("y", 3*maxLineBytes)+"\n")
	if _, tl, _ := get("/api/logs?name=tracker"); len(tl.Lines) != 1 || len(tl.Lines[0]) > maxLineBytes+len("…") {
		t.Fatalf("long line: %d bytes", len(tl.Lines[0]))
	}
}
