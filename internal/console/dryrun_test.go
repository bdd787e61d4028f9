package console

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/testenv"
)

// dryTree is a local source with one object for every dry-run outcome,
// and a destination already holding one of them.
func dryTree(t *testing.T) (src, dst string, want map[string]string) {
	t.Helper()
	src, dst = t.TempDir(), t.TempDir()
	put := func(root, rel string, size int, mtime time.Time) {
		t.Helper()
		path := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, bytes.Repeat([]byte{'x'}, size), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().Truncate(time.Second)
	want = map[string]string{}
	for i := range 5 {
		rel := fmt.Sprintf("photos/p%d.jpg", i)
		put(src, rel, 100+i, now)
		want[rel] = "copy,"
	}
	put(src, "photos/there.jpg", 120, now)
	put(dst, "photos/there.jpg", 120, now)
	want["photos/there.jpg"] = "skip,exists at the destination (isSkipExistFile)"
	put(src, "photos/old.jpg", 100, now.Add(-48*time.Hour))
	want["photos/old.jpg"] = "skip,importSince"
	if err := os.Symlink("p0.jpg", filepath.Join(src, "photos", "link.jpg")); err != nil {
		t.Fatal(err)
	}
	want["photos/link.jpg"] = "skip,symbolic link (isAllowSymbolicLink=false)"
	put(src, "photos/bad\xffname.jpg", 100, now)
	want[`"photos/bad\xffname.jpg"`] = "fail,InvalidName"
	put(src, "photos/draft.tmp.jpg", 100, now)
	want["photos/draft.tmp.jpg"] = "exclude,excludePatterns *.tmp.jpg"
	put(src, "notes.txt", 100, now)
	want["notes.txt"] = "exclude,includePatterns"
	put(src, "photos/tiny.jpg", 5, now)
	want["photos/tiny.jpg"] = "exclude,minFileSize"
	put(src, "photos/huge.jpg", 5000, now)
	want["photos/huge.jpg"] = "exclude,maxFileSize"
	return src, dst, want
}

// TestDryRunReportsEveryObject: run --dry-run lists every object of the
// source with what a run would do (copy, skip with the reason, fail,
// excluded by which filter), summarises the counts and bytes on screen,
// and writes nothing at the destination or in the job's folder.
func TestDryRunReportsEveryObject(t *testing.T) {
	src, dst, want := dryTree(t)
	conf, wd := t.TempDir(), t.TempDir()
	jobFile, sysFile := filepath.Join(conf, "job.cfg"), filepath.Join(conf, "sys.properties")
	since := time.Now().Add(-24 * time.Hour).Unix()
	writeTestFile(t, jobFile, fmt.Sprintf("srcType=local\ndestType=local\njobName=dry_job\nsrcPrefix=%s/\ndestBucket=%s\ntaskObjectCountLimit=3\n"+
		"isSkipExistFile=true\nimportSince=%d\nincludePatterns=*.jpg\nexcludePatterns=*.tmp.jpg\nminFileSize=10\nmaxFileSize=1000\n", src, dst, since))
	writeTestFile(t, sysFile, fmt.Sprintf("workingDir=%s\nnatsPort=%d\nhttpListen=\nworkerTaskThreadNum=3\n", wd, testenv.LoopbackPort(t)))

	var out, errOut bytes.Buffer
	if err := runJob(t.Context(), &out, &errOut, runFlags{job: jobFile, sys: sysFile, dryRun: true}); err != nil {
		t.Fatalf("dry run: %v\n%s", err, errOut.String())
	}
	summary := out.String()
	t.Logf("summary:\n%s", summary)
	for _, line := range []string{
		"Job dry_job (dry run): 8 objects (",
		"would copy:", "5 objects (510 B)",
		"would skip:", "3 objects (",
		"exists at the destination (isSkipExistFile):", "1 objects (120 B)",
		"importSince:", "symbolic link (isAllowSymbolicLink=false):",
		"would fail (names that can never be copied: rename them at the source):", "InvalidName:",
		"excluded by filters:", "4 objects (5.1 KiB)",
		"excludePatterns *.tmp.jpg:", "includePatterns:", "minFileSize:", "maxFileSize:",
	} {
		if !strings.Contains(summary, line) {
			t.Errorf("summary lacks %q", line)
		}
	}
	matches, _ := filepath.Glob(filepath.Join(wd, dryRunDir, "dry_job-*.csv"))
	if len(matches) != 1 || !strings.Contains(summary, "list: "+matches[0]) {
		t.Fatalf("dry run lists %q; summary:\n%s", matches, summary)
	}
	f, err := os.Open(matches[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) == 0 || strings.Join(rows[0], ",") != "action,reason,key,destinationKey,size,modTime" {
		t.Fatalf("list: %v %q", err, rows)
	}
	got := map[string]string{}
	for _, r := range rows[1:] {
		rel := r[2] // local sources list keys relative to srcPrefix
		if _, dup := got[rel]; dup {
			t.Errorf("%s listed twice", rel)
		}
		got[rel] = r[0] + "," + r[1]
	}
	if !maps.Equal(got, want) {
		t.Errorf("list\n got %v\nwant %v", got, want)
	}

	// Nothing written: the destination holds only what it held, and
	// the working directory only the list.
	var dstFiles []string
	_ = filepath.Walk(dst, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			dstFiles = append(dstFiles, strings.TrimPrefix(p, dst+"/"))
		}
		return nil
	})
	if len(dstFiles) != 1 || dstFiles[0] != "photos/there.jpg" {
		t.Errorf("the dry run wrote at the destination: %q", dstFiles)
	}
	entries, _ := os.ReadDir(wd)
	for _, e := range entries {
		if e.Name() != dryRunDir {
			t.Errorf("the dry run wrote %s in the working directory", e.Name())
		}
	}
}

// TestSubmitDryRun: submit --dry-run reports like run --dry-run and
// submits nothing.
func TestSubmitDryRun(t *testing.T) {
	h := newTestHome(t, "", "isSkipExistFile=true\nexcludePatterns=*.tmp\n")
	h.writeFiles(h.src, 6, 10, 0)
	h.write(filepath.Join(h.src, "x.tmp"), "temporary")
	r := h.mustConsole("", "submit", "--dry-run", h.job)
	for _, want := range []string{"Job local_test (dry run): 6 objects", "would copy:", "excluded by filters:", "excludePatterns *.tmp:", "list: " + filepath.Join(h.dir, dryRunDir)} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("submit --dry-run lacks %q:\n%s", want, r)
		}
	}
	if _, err := os.Stat(h.workdir().Job("local_test")); !os.IsNotExist(err) {
		t.Fatalf("submit --dry-run made the job's folder: %v", err)
	}
	h.mustConsole("no jobs is running or finished.\n", "stat")
	h.mustConsole("submit job:"+h.job+"\n", "submit", h.job)
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
