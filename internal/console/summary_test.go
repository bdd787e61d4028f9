package console

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/progress"
	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/report"
	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/memory"
	"github.com/ossimport/ossimport/internal/summary"
)

// summarySource is a memory source whose keys ending in .lnk list as
// symbolic links (skipped) and whose key missing cannot be read
// (SourceNotFound).
type summarySource struct {
	*memory.Store
	missing string
}

func (s *summarySource) List(ctx context.Context, opts storage.ListOptions) (storage.Page, error) {
	page, err := s.Store.List(ctx, opts)
	for i, o := range page.Objects {
		if strings.HasSuffix(o.Key, ".lnk") {
			page.Objects[i].IsSymlink = true
		}
	}
	return page, err
}

func (s *summarySource) Open(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	if key == s.missing {
		return nil, fmt.Errorf("open %s: %w", key, storage.ErrNotExist)
	}
	return s.Store.Open(ctx, key, off, n)
}

// TestRunSummariesAddUpAfterInterruption interrupts a run, resumes it,
// and compares after each the four places that show a job's numbers:
// run's summary, import.log's line ("run interrupted", then "job
// finished"), stat --json's summary and the reports, number by number.
// The resumed run says what it resumed: the interrupted run's unfinished
// objects and tasks.
func TestRunSummariesAddUpAfterInterruption(t *testing.T) {
	f := newRunFixture(t, 60, "excludePatterns=*.skip")
	for i := range 3 {
		f.put(fmt.Sprintf("data/%03d.lnk", 15+i*20), []byte("link"))
	}
	for i := range 5 {
		f.put(fmt.Sprintf("data/%03d.skip", 5+i*10), []byte("excluded"))
	}
	f.put("data/012.miss", []byte("gone when read"))
	f.source = &summarySource{Store: f.src, missing: "data/012.miss"}
	ctx, cancel := context.WithCancel(t.Context())
	f.dest = &hookStore{Store: f.dst, before: stopAfter(25, cancel)}
	r := f.run(ctx)
	if r.code != 130 {
		t.Fatalf("interrupted run: code %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	first := checkSummariesAgree(t, f, r.stdout, "run interrupted")
	if first.Unfinished == 0 || first.Tasks.Unfinished() == 0 {
		t.Fatalf("the interrupted run left nothing unfinished: %+v", first)
	}
	want := fmt.Sprintf("interrupted:         %d objects in %d tasks (%d running when stopped, %d not started)",
		first.Unfinished, first.Tasks.Unfinished(), first.Tasks.Running, first.Tasks.Pending)
	if !strings.Contains(r.stdout, want) {
		t.Errorf("the interrupted run's summary lacks %q:\n%s", want, r.stdout)
	}

	f.dest = f.dst
	f.every = 20 * time.Millisecond
	r = f.run(t.Context())
	if r.code != 1 {
		t.Fatalf("resumed run (one object cannot be read): code %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	last := checkSummariesAgree(t, f, r.stdout, "job finished")
	want = fmt.Sprintf("resumed:             %d objects in %d tasks an earlier run left", first.Unfinished, first.Tasks.Unfinished())
	if !strings.Contains(r.stdout, want) {
		t.Errorf("the resumed run's summary lacks %q:\n%s", want, r.stdout)
	}
	if last.Unfinished != 0 || last.Planned.Objects != 64 || last.Excluded != 5 || last.Failed != 1 ||
		last.FailedBy["SourceNotFound"] != 1 || last.SkippedBy[record.SkipSymlink] != 3 || !last.ScanFinished {
		t.Errorf("after the resume: %+v; want 64 planned (5 excluded), 1 SourceNotFound, 3 symbolic links skipped, nothing unfinished", last)
	}
	// The progress lines end at the job's true totals, without a
	// stale time left.
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	var lastProgress string
	for _, l := range lines {
		if strings.HasPrefix(l, "test_job: ") {
			lastProgress = l
		}
	}
	if !strings.Contains(lastProgress, "objects 64/64 |") || !strings.Contains(lastProgress, "ETA 0s") {
		t.Errorf("the resumed run's last progress line: %q", lastProgress)
	}
	if !strings.Contains(r.stdout, "    SourceNotFound   1\n") {
		t.Errorf("the summary does not count the failure by code:\n%s", r.stdout)
	}
}

// checkSummariesAgree reads the job's numbers (summary.Read), checks that
// they add up, and that run's summary, import.log's last msg line, stat
// --json and the reports show the same.
func checkSummariesAgree(t *testing.T, f *runFixture, stdout, msg string) summary.Job {
	t.Helper()
	j, err := summary.Read(f.dir, "test_job")
	if err != nil {
		t.Fatal(err)
	}
	if got := j.Copied.Objects + j.Skipped.Objects + j.Failed + j.Verified + j.Unfinished; got != j.Planned.Objects {
		t.Errorf("%s: copied+skipped+failed+verified+unfinished = %d, planned %d: %+v", msg, got, j.Planned.Objects, j)
	}
	var skipped int64
	for _, n := range j.SkippedBy {
		skipped += n
	}
	if skipped != j.Skipped.Objects {
		t.Errorf("%s: skipped by reason %v does not add up to %d", msg, j.SkippedBy, j.Skipped.Objects)
	}

	// run's summary.
	for _, line := range []string{
		fmt.Sprintf("planned:             %d objects (%s) in %d tasks", j.Planned.Objects, progress.Bytes(j.Planned.Bytes), j.Tasks.Planned),
		fmt.Sprintf("copied and verified: %d (%s)\n", j.Copied.Objects, progress.Bytes(j.Copied.Bytes)),
		fmt.Sprintf("skipped:             %d (%s)", j.Skipped.Objects, progress.Bytes(j.Skipped.Bytes)),
		fmt.Sprintf("failed:              %d\n", j.Failed),
		fmt.Sprintf("tasks: %d succeeded, %d failed, %d not finished", j.Tasks.Succeed, j.Tasks.Failed, j.Tasks.Unfinished()),
	} {
		if !strings.Contains(stdout, line) {
			t.Errorf("%s: run's summary lacks %q:\n%s", msg, line, stdout)
		}
	}
	if r := summary.Reasons(j.SkippedBy); r != "" && !strings.Contains(stdout, ": "+r+"\n") {
		t.Errorf("%s: run's summary lacks the skip reasons %q:\n%s", msg, r, stdout)
	}
	if j.Excluded > 0 && !strings.Contains(stdout, fmt.Sprintf("excluded by filters: %d of %d listed", j.Excluded, j.Listed)) {
		t.Errorf("%s: run's summary lacks the %d excluded:\n%s", msg, j.Excluded, stdout)
	}

	// import.log.
	attrs := lastLogLine(t, filepath.Join(f.dir.Logs(), "import.log"), msg)
	for key, want := range map[string]string{
		"planned": fmt.Sprint(j.Planned.Objects), "plannedBytes": fmt.Sprint(j.Planned.Bytes),
		"copied": fmt.Sprint(j.Copied.Objects), "copiedBytes": fmt.Sprint(j.Copied.Bytes),
		"skipped": fmt.Sprint(j.Skipped.Objects), "skippedBy": summary.Reasons(j.SkippedBy),
		"failed": fmt.Sprint(j.Failed), "failedBy": summary.Reasons(j.FailedBy),
		"unfinished": fmt.Sprint(j.Unfinished), "excluded": fmt.Sprint(j.Excluded),
		"succeedTasks": fmt.Sprint(j.Tasks.Succeed), "failedTasks": fmt.Sprint(j.Tasks.Failed), "unfinishedTasks": fmt.Sprint(j.Tasks.Unfinished()),
	} {
		if attrs[key] != want {
			t.Errorf("%s: import.log's %s=%q, the summary's %q", msg, key, attrs[key], want)
		}
	}

	// stat --json.
	var stdoutJSON, stderr bytes.Buffer
	if code := Execute([]string{"console", "stat", "--json", "--sys", f.sysFile}, &stdoutJSON, &stderr); code != 0 {
		t.Fatalf("stat --json: exit %d: %s", code, stderr.String())
	}
	var jobs []struct {
		Summary summary.Job `json:"summary"`
	}
	if err := json.Unmarshal(stdoutJSON.Bytes(), &jobs); err != nil || len(jobs) != 1 {
		t.Fatalf("stat --json: %v\n%s", err, stdoutJSON.String())
	}
	if !reflect.DeepEqual(jobs[0].Summary, j) {
		t.Errorf("%s: stat --json's summary %+v, want %+v", msg, jobs[0].Summary, j)
	}

	// The reports: one copied row per copied object, one skipped row per
	// skipped one (by reason), and the latest row of each failed object
	// not copied or skipped since (by code).
	rows := func(name string) []report.Row {
		var out []report.Row
		file, err := os.Open(filepath.Join(f.dir.Reports("test_job"), name+".jsonl"))
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		defer file.Close()
		sc := bufio.NewScanner(file)
		for sc.Scan() {
			var row report.Row
			if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
				t.Fatalf("%s.jsonl: %v", name, err)
			}
			out = append(out, row)
		}
		return out
	}
	done := map[string]bool{}
	copied := rows(report.Copied)
	for _, row := range copied {
		done[row.SourceKey()] = true
	}
	if int64(len(copied)) != j.Copied.Objects {
		t.Errorf("%s: copied.jsonl has %d rows, the summary %d copied", msg, len(copied), j.Copied.Objects)
	}
	skippedBy := map[string]int64{}
	for _, row := range rows(report.Skipped) {
		skippedBy[record.SkipReason(row.Reason)]++
		done[row.SourceKey()] = true
	}
	if !reflect.DeepEqual(skippedBy, nonNil(j.SkippedBy)) {
		t.Errorf("%s: skipped.jsonl by reason %v, the summary %v", msg, skippedBy, j.SkippedBy)
	}
	latest := map[string]string{}
	for _, row := range rows(report.Failed) {
		latest[row.SourceKey()] = row.Code
	}
	failedBy := map[string]int64{}
	for key, code := range latest {
		if !done[key] {
			failedBy[code]++
		}
	}
	if !reflect.DeepEqual(failedBy, nonNil(j.FailedBy)) {
		t.Errorf("%s: failed.jsonl by code %v, the summary %v", msg, failedBy, j.FailedBy)
	}
	return j
}

func nonNil(m map[string]int64) map[string]int64 {
	if m == nil {
		return map[string]int64{}
	}
	return m
}

// logAttr is one key=value of a slog text line.
var logAttr = regexp.MustCompile(`(\w+)=("(?:[^"\\]|\\.)*"|\S*)`)

// lastLogLine returns the attributes of the last line of a log with
// msg="<msg>".
func lastLogLine(t *testing.T, path, msg string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var line string
	for l := range strings.SplitSeq(string(data), "\n") {
		if strings.Contains(l, `msg="`+msg+`"`) {
			line = l
		}
	}
	if line == "" {
		t.Fatalf("%s has no %q line:\n%s", path, msg, data)
	}
	attrs := map[string]string{}
	for _, m := range logAttr.FindAllStringSubmatch(line, -1) {
		v := m[2]
		if u, err := strconv.Unquote(v); err == nil {
			v = u
		}
		attrs[m[1]] = v
	}
	return attrs
}
