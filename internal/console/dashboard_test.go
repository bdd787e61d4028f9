package console

// The web dashboard end to end: a real service copying a throttled job
// into versitygw, the page loaded in headless Chromium (driven with
// chromedp), progress read twice, a failed task expanded, a retry
// clicked with the cluster token.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ossimport/ossimport/internal/testenv"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/workdir"
)

// browser is a headless Chromium tab.
type browser struct {
	t   *testing.T
	ctx context.Context
}

// newBrowser starts Debian's chromium headless with the flags this
// machine needs and a fresh profile.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := testenv.ChromiumPath(t)
	profile, err := os.MkdirTemp("", "ossimport-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 1600),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
		_ = os.RemoveAll(profile)
	})
	// Start the browser on the tab's own context: the one of the first
	// run owns it, and the later runs have deadlines of their own.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return &browser{t: t, ctx: ctx}
}

// do runs actions with a deadline.
func (b *browser) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// pageEval evaluates a JavaScript expression in the page (awaiting a promise).
func pageEval[T any](b *browser, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
}

// pageMust evaluates expr and fails the test on an error.
func pageMust[T any](b *browser, expr string) T {
	b.t.Helper()
	v, err := pageEval[T](b, expr)
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitJS polls expr until it is true; on a timeout it fails with what
// the page shows.
func (b *browser) waitJS(h *testHome, timeout time.Duration, what, expr string) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := pageEval[bool](b, expr)
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			text, terr := pageEval[string](b, `document.body.innerText`)
			b.t.Fatalf("timed out after %s waiting for %s (last: %v)\npage (%v):\n%s%s", timeout, what, err, terr, text, h.logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// artifactPath is where the screenshot goes: $OSSIMPORT_TEST_ARTIFACTS
// (a folder; "1" means test-artifacts/ at the root of the repository)
// when set, else the test's temporary folder.
func artifactPath(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("OSSIMPORT_TEST_ARTIFACTS")
	switch dir {
	case "":
		return filepath.Join(t.TempDir(), name)
	case "1", "true":
		root, err := filepath.Abs(filepath.Join("..", ".."))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
			t.Fatalf("repository root %s: %v", root, err)
		}
		dir = filepath.Join(root, "test-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, name)
}

func TestDashboardEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real service and Chromium")
	}
	b := newBrowser(t)
	httpPort := freePort(t)
	// 4 threads at 160 KB/s altogether: about 20s for the job.
	h, d := newS3Home(t, fmt.Sprintf("httpListen=127.0.0.1:%d\nworkerMaxThroughput(KB/s)=160\n", httpPort), "taskObjectCountLimit=10\n")
	files := h.writeFiles(h.src, 200, 16<<10, 0)
	h.write(filepath.Join(h.src, "bad\nname.txt"), "a line break in a name\n")
	h.mustConsole("Start import service completed.\n", "start")
	h.mustConsole("", "submit", h.job)

	base := "http://127.0.0.1:" + strconv.Itoa(httpPort) + "/"
	h.waitFor(20*time.Second, "the dashboard answering", func() bool {
		resp, err := http.Get(base + "api/info")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	// /metrics is still served next to the dashboard.
	resp, err := http.Get(base + "metrics")
	if err != nil {
		t.Fatal(err)
	}
	metricsText, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(metricsText), "ossimport_worker_up") {
		t.Fatalf("/metrics: %d %v %.300s", resp.StatusCode, err, metricsText)
	}
	b.do(chromedp.Navigate(base + "?refresh=300"))

	card := `document.querySelector('article.job[data-job="` + failJob + `"]')`
	objectsDone := card + `.querySelector('.objects-text').dataset.done`
	b.waitJS(h, 30*time.Second, "the job on the page", card+` !== null && `+card+`.dataset.state === 'Running' && Number(`+objectsDone+`) > 0`)

	// Progress advances between two reads of the page.
	first := pageMust[string](b, card+`.querySelector('.objects-text').textContent`)
	done1 := pageMust[string](b, objectsDone)
	total := pageMust[string](b, card+`.querySelector('.objects-text').dataset.total`)
	if n1, _ := strconv.Atoi(done1); n1 >= len(files)+1 {
		t.Fatalf("the job finished before the page was read (%s of %s); slow it down", done1, total)
	}
	b.waitJS(h, 60*time.Second, "the progress shown to advance", `Number(`+objectsDone+`) > `+done1)
	second := pageMust[string](b, card+`.querySelector('.objects-text').textContent`)
	t.Logf("progress on the page: %q, then %q", first, second)
	if !strings.Contains(first, " / ") || first == second {
		t.Fatalf("progress text %q then %q", first, second)
	}

	// Read-only without the token: the banner says where the token is,
	// the buttons are disabled, and the API refuses a POST.
	wantBanner := "read-only: enter the cluster token (in " + tokenFile(h.workdir()) + ") to retry or clean"
	if got := pageMust[string](b, `document.getElementById('banner').textContent`); got != wantBanner {
		t.Fatalf("banner %q, want %q", got, wantBanner)
	}
	if !pageMust[bool](b, card+`.querySelector('button.retry').disabled`) || !pageMust[bool](b, card+`.querySelector('button.clean').disabled`) {
		t.Fatal("Retry and Clean are enabled without the token")
	}
	refused := pageMust[string](b, `fetch('api/jobs/`+failJob+`/retry', {method: 'POST'}).then(async r => r.status + ' ' + (await r.json()).error)`)
	if refused != "401 "+wantBanner {
		t.Fatalf("POST without the token: %q", refused)
	}

	// The failed task, expanded, shows its audit line with the cause.
	failedCount := card + `.querySelector('details.failed').dataset.count`
	b.waitJS(h, 90*time.Second, "a failed task on the page", `Number(`+failedCount+`) > 0`)
	b.do(chromedp.Click(chromedp.CSS(`article.job[data-job="` + failJob + `"] details.failed > summary`)))
	task := `document.querySelector('article.job[data-job="` + failJob + `"] details.failed-task')`
	b.waitJS(h, 20*time.Second, "the failed task listed", task+` !== null`)
	b.do(chromedp.Click(chromedp.CSS(`article.job[data-job="` + failJob + `"] details.failed-task > summary`)))
	taskID := pageMust[string](b, task+`.dataset.task`)
	audit := pageMust[string](b, task+`.querySelector('pre.audit').textContent`)
	errs := pageMust[string](b, task+`.querySelector('pre.errors').textContent`)
	if !strings.Contains(audit, ` InvalidName bad\nname.txt Detail:`) || !strings.Contains(audit, "contains a line break") ||
		!strings.Contains(errs, `"bad\nname.txt"`) || !pageMust[bool](b, task+`.open`) {
		t.Fatalf("failed task %s on the page: audit %q, error list %q", taskID, audit, errs)
	}

	// With the token, Retry answers; a task failed only by a name that can
	// never be copied is not requeued: the reply says to rename it.
	token, err := os.ReadFile(tokenFile(h.workdir()))
	if err != nil {
		t.Fatal(err)
	}
	b.do(chromedp.SendKeys(chromedp.ID("token"), strings.TrimSpace(string(token))), chromedp.Click(chromedp.ID("token-use")))
	b.waitJS(h, 20*time.Second, "the token accepted", `document.getElementById('banner').dataset.mode === 'authorized' && !`+card+`.querySelector('button.retry').disabled`)
	if strings.Contains(pageMust[string](b, `location.href`), strings.TrimSpace(string(token))) {
		t.Fatal("the token is in the page's URL")
	}
	b.do(chromedp.Click(chromedp.CSS(`article.job[data-job="` + failJob + `"] button.retry`)))
	b.waitJS(h, 30*time.Second, "the retry reply", `document.getElementById('message').textContent.includes('Rename them at the source')`)
	t.Logf("reply shown: %q", pageMust[string](b, `document.getElementById('message').textContent`))
	if _, state, err := tracker.Locate(h.workdir(), failJob, taskID); err != nil || state != workdir.Failed {
		t.Fatalf("the task failed only by its name was requeued: %s %v", state, err)
	}
	b.waitJS(h, 90*time.Second, "the job finished and the failed task listed",
		card+`.dataset.state === 'Failed' && `+task+` !== null`)
	b.waitJS(h, 30*time.Second, "two throughput samples", `Number(document.getElementById('chart').dataset.samples) >= 2`)
	// The service's own worker is named after this machine's host name.
	if rows := pageMust[int](b, `document.querySelectorAll('#workers tr[data-worker="`+localWorkerName()+`"].alive').length`); rows != 1 {
		t.Fatalf("the worker %s is not shown alive (%d rows)", localWorkerName(), rows)
	}
	if st := h.mustConsole("", "stat", failJob).stdout; !strings.Contains(st, "JobState:Failed\n") {
		t.Fatalf("stat after the retry:\n%s", st)
	}
	if _, err := os.Stat(filepath.Join(h.workdir().Task(failJob, workdir.Failed, "", taskID), "RETRIES")); err == nil {
		t.Fatal("the task failed only by its name was retried")
	}
	d.verify(t, files)

	// The screenshot shows the failed task expanded (the page may have
	// closed it meanwhile).
	pageMust[bool](b, `(() => { const t = `+task+`; if (!t.open) { t.querySelector('summary').click(); } return true; })()`)
	b.waitJS(h, 10*time.Second, "the failed task expanded", task+`.open && `+task+`.querySelector('pre.audit').textContent.includes('InvalidName')`)
	shot, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	path := artifactPath(t, "dashboard.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)

	// Cleaning from the page removes the job.
	b.do(chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`),
		chromedp.Click(chromedp.CSS(`article.job[data-job="`+failJob+`"] button.clean`)))
	b.waitJS(h, 30*time.Second, "the clean reply and the job gone", `document.getElementById('message').textContent.includes('Clean job:`+failJob+` completed.') && `+card+` === null`)
	if _, err := os.Stat(h.workdir().Job(failJob)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the job folder is still there: %v", err)
	}
	var info struct{ Authorized bool }
	resp, err = http.Get(base + "api/info")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil || info.Authorized {
		t.Fatalf("info without the token: %+v %v", info, err)
	}
	h.mustConsole("Stop import service completed.\n", "stop")
}
