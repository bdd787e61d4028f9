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

	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/service"
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
	ctx, cancel := context.WithTimeout(b.ctx, testenv.Scale(30*time.Second))
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// pageEval evaluates a JavaScript expression in the page (awaiting a promise).
func pageEval[T any](b *browser, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(b.ctx, testenv.Scale(20*time.Second))
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
	var err error
	testenv.WaitEvery(b.t, timeout, 100*time.Millisecond, what, func() bool {
		var ok bool
		ok, err = pageEval[bool](b, expr)
		return err == nil && ok
	}, func() string {
		text, terr := pageEval[string](b, `document.body.innerText`)
		return fmt.Sprintf("(last: %v)\npage (%v):\n%s%s", err, terr, text, h.logs())
	})
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
	httpPort := testenv.LoopbackPort(t)
	// 4 threads at 100 KB/s altogether: about 33s for the job, long
	// enough to read every panel at both widths while it runs.
	h, d := newS3Home(t, fmt.Sprintf("httpListen=127.0.0.1:%d\nworkerMaxThroughput(KB/s)=100\n", httpPort), "taskObjectCountLimit=10\n")
	files := h.writeFiles(h.src, 200, 16<<10, 0)
	h.write(filepath.Join(h.src, "bad\xffname.txt"), "a name that is not UTF-8, which S3 refuses\n")
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

	// Every panel shows the running job at a desktop's width and at a
	// phone's, without horizontal scrolling on the phone.
	for _, width := range []int64{1280, 390} {
		b.do(chromedp.EmulateViewport(width, 1600))
		checkPanels(t, b, h, d, width)
		savePage(t, b, fmt.Sprintf("dashboard-%d.png", width))
	}
	b.do(chromedp.EmulateViewport(1280, 1600))

	// Read-only without the token: the banner says where the token is,
	// the buttons are disabled, and the API refuses a POST.
	wantBanner := "read-only: enter the cluster token (in " + h.workdir().Token() + ") to retry or clean"
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
	if !strings.Contains(audit, ` InvalidName "bad\xffname.txt" Detail:`) || !strings.Contains(audit, "is not valid UTF-8") ||
		!strings.Contains(errs, `"bad\xffname.txt"`) || !pageMust[bool](b, task+`.open`) {
		t.Fatalf("failed task %s on the page: audit %q, error list %q", taskID, audit, errs)
	}

	// With the token, Retry answers; a task failed only by a name that can
	// never be copied is not requeued: the reply says to rename it.
	token, err := os.ReadFile(h.workdir().Token())
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
	// The ended job says so in one line, and folds its details.
	b.waitJS(h, 20*time.Second, "the final state shown", card+`.dataset.final === 'true' && `+card+`.querySelector('p.final').offsetParent !== null`)
	final := pageMust[string](b, card+`.querySelector('p.final').textContent`)
	if !strings.HasPrefix(final, "Failed after ") || !strings.Contains(final, "copied") || !strings.Contains(final, " 1 failed in 1 task") {
		t.Fatalf("final line %q", final)
	}
	if pageMust[bool](b, card+`.querySelector('details.job-body').open`) {
		t.Fatal("the ended job's details are not folded")
	}
	pageMust[bool](b, card+`.querySelector('details.job-body').open = true`)
	rate := pageMust[string](b, card+`.querySelector('.stat.rate .v').textContent`)
	eta := pageMust[string](b, card+`.querySelector('.stat.eta .v').textContent`)
	if !strings.HasSuffix(rate, "/s average") || eta != "ended" {
		t.Fatalf("the ended job's copy rate %q and ETA %q", rate, eta)
	}
	b.waitJS(h, 30*time.Second, "two throughput samples", `Number(document.getElementById('chart').dataset.samples) >= 2`)
	// The service's own worker is named after this machine's host name.
	if rows := pageMust[int](b, `document.querySelectorAll('#workers tr[data-worker="`+service.LocalWorkerName(config.DefaultSys())+`"].alive').length`); rows != 1 {
		t.Fatalf("the worker %s is not shown alive (%d rows)", service.LocalWorkerName(config.DefaultSys()), rows)
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
	savePage(t, b, "dashboard.png")

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

// savePage saves a screenshot of the whole page as a test artifact.
func savePage(t *testing.T, b *browser, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, testenv.Scale(30*time.Second))
	defer cancel()
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	path := artifactPath(t, name)
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// checkPanels asserts that every panel of the page shows the running
// job failJob with real figures (not placeholders), at the page's
// current width, and that the page is no wider than the window.
func checkPanels(t *testing.T, b *browser, h *testHome, d *s3Dest, width int64) {
	t.Helper()
	card := `document.querySelector('article.job[data-job="` + failJob + `"]')`
	visible := func(sel string) string {
		return `(() => { const e = ` + sel + `; return e !== null && e.offsetParent !== null; })()`
	}
	stat := func(cls string) string { return card + `.querySelector('.stat.` + cls + ` .v')` }
	at := fmt.Sprintf(" at %dpx", width)

	b.waitJS(h, 10*time.Second, "the page laid out at "+strconv.FormatInt(width, 10)+"px", `window.innerWidth === `+strconv.FormatInt(width, 10))
	// Two refreshes at this width.
	n := pageMust[int](b, `Number(document.body.dataset.refreshes || 0)`)
	b.waitJS(h, 10*time.Second, "two refreshes", `Number(document.body.dataset.refreshes || 0) >= `+strconv.Itoa(n+2))
	// Where the job copies from and to, without a credential.
	b.waitJS(h, 20*time.Second, "the route"+at, visible(card+`.querySelector('.route')`))
	src := pageMust[string](b, card+`.querySelector('.route .src').textContent`)
	dst := pageMust[string](b, card+`.querySelector('.route .dst').textContent`)
	if src != "local "+h.src+"/" || dst != "s3://"+d.bucket+"/ at "+d.srv.Endpoint {
		t.Fatalf("route%s: %q → %q", at, src, dst)
	}
	// Start, elapsed, ETA, copy rate and objects per second of the job
	// while it runs.
	b.waitJS(h, 30*time.Second, "the job's times and rates"+at, card+`.dataset.state === 'Running' && `+
		`Date.now() - Date.parse(`+stat("started")+`.dataset.time) < 600000 && `+
		`Number(`+stat("elapsed")+`.dataset.seconds) > 0 && Number(`+stat("eta")+`.dataset.seconds) > 0 && `+
		`Number(`+stat("rate")+`.dataset.bps) > 0 && Number(`+stat("ops")+`.dataset.ops) > 0 && `+visible(stat("rate")))
	figures := pageMust[string](b, `[...`+card+`.querySelectorAll('.stat')].map(e => e.innerText.replace('\n', ': ')).join(' | ')`)
	t.Logf("job figures%s: %s", at, figures)
	for _, want := range []string{"copy rate: ", "/s", "ETA: ", "elapsed: ", "so far"} {
		if !strings.Contains(figures, want) || strings.Contains(figures, "measuring") {
			t.Fatalf("job figures%s lack %q: %s", at, want, figures)
		}
	}
	// The job's chart, the overall chart and the workers' charts have
	// samples, and the worker table the worker running tasks.
	wname := service.LocalWorkerName(config.DefaultSys()) // the service's own worker
	b.waitJS(h, 30*time.Second, "the charts and the worker"+at,
		`Number(`+card+`.querySelector('svg.job-chart').dataset.samples) >= 2 && Number(`+card+`.querySelector('svg.job-chart').dataset.moving) >= 1 && `+
			`Number(document.getElementById('chart').dataset.samples) >= 2 && `+
			`document.querySelector('#worker-chart polyline[data-name="`+wname+`"]') !== null && `+
			`document.querySelector('#worker-tasks-chart polyline[data-name="`+wname+`"]') !== null && `+
			`document.querySelector('#workers tr[data-worker="`+wname+`"].alive td.wstate').textContent === 'alive' && `+
			`Number(document.querySelector('#workers tr[data-worker="`+wname+`"] td.running').dataset.count) > 0 && `+
			`Number(document.querySelector('#workers tr[data-worker="`+wname+`"] td.age').dataset.seconds) < 30 && `+
			visible(`document.getElementById('worker-chart')`))
	// The log tail shows import.log's line of the job's start.
	b.waitJS(h, 20*time.Second, "the log tail"+at, `document.getElementById('log').dataset.name === 'import' && `+
		`document.getElementById('log').textContent.includes('msg="job started" job=`+failJob+`') && `+visible(`document.getElementById('log')`))
	// The configuration, opened: the job's values, secrets masked.
	pageMust[bool](b, card+`.querySelector('details.config').open = true`)
	row := func(key string) string {
		return card + `.querySelector('table.settings tr[data-key="` + key + `"] td.value')`
	}
	b.waitJS(h, 20*time.Second, "the configuration"+at, row("destBucket")+` !== null && `+row("destBucket")+`.textContent === '`+d.bucket+`' && `+
		row("destSecretKey")+`.textContent === '****' && `+visible(row("destBucket")))
	if html := pageMust[string](b, `document.documentElement.outerHTML`); strings.Contains(html, d.srv.SecretKey) || strings.Contains(html, d.srv.AccessKey) {
		t.Fatalf("the page%s shows a credential of the job", at)
	}
	// Every chart is drawn for the width it has (its text is not scaled).
	if bad := pageMust[string](b, `[...document.querySelectorAll('svg.chart')].filter(e => e.offsetParent !== null && `+
		`Math.abs(Number(e.dataset.width) - Math.max(e.getBoundingClientRect().width, 240)) > 2).map(e => e.id || e.className.baseVal).join(', ')`); bad != "" {
		t.Fatalf("charts drawn for another width%s: %s", at, bad)
	}
	// No horizontal scrolling; on a phone the tables are stacked.
	if w := pageMust[[]int64](b, `[document.documentElement.scrollWidth, window.innerWidth]`); w[0] > w[1] {
		wide := pageMust[string](b, `[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth).`+
			`slice(0, 10).map(e => e.tagName + '.' + e.className + ': ' + Math.round(e.getBoundingClientRect().right) + 'px').join('; ')`)
		savePage(t, b, fmt.Sprintf("dashboard-%d-overflow.png", width))
		t.Fatalf("the page is %dpx wide in a %dpx window; too wide: %s", w[0], w[1], wide)
	}
	stacked := pageMust[bool](b, `getComputedStyle(document.querySelector('#workers-table thead')).display === 'none'`)
	if stacked != (width < 640) {
		t.Fatalf("workers table stacked %v%s", stacked, at)
	}
}
