package console

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// installScripts copies console.sh and import.sh of the repository into
// the home, as in ossimport's package.
func (h *testHome) installScripts() {
	h.t.Helper()
	for _, name := range []string{"console.sh", "import.sh"} {
		data, err := os.ReadFile(filepath.Join("..", "..", name))
		if err != nil {
			h.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(h.dir, name), data, 0o755); err != nil {
			h.t.Fatal(err)
		}
	}
}

// TestImportScript runs import.sh end to end: unattended on a fresh
// installation, then again answering the questions (a wrong answer is
// asked again), then refusing to clean the previous job.
func TestImportScript(t *testing.T) {
	h := newTestHome(t, "", "")
	h.installScripts()
	files := h.writeFiles(h.src, 40, 32, 0)
	fast := []string{"IMPORT_POLL_SECONDS=1"}

	r := h.run("", fast, "bash", "import.sh", "--yes")
	if r.code != 0 || !strings.Contains(r.stdout, "submit job:") || !strings.Contains(r.stdout, "JobState:Succeed") ||
		!strings.Contains(r.stdout, "Import to oss completed.\nStop import service, Yes or No: yes\nStop import service completed.\n") {
		t.Fatalf("import.sh --yes: %s%s", r, h.logs())
	}
	h.checkCopied(h.dst, files)
	if h.servicePid() != 0 {
		t.Fatal("import.sh --yes left the service running")
	}
	for _, log := range []string{"submit.log", "job_stat.log"} {
		if _, err := os.Stat(filepath.Join(h.dir, "logs", log)); err != nil {
			t.Errorf("logs/%s: %v", log, err)
		}
	}

	r = h.run("maybe\ny\nn\n", fast, "bash", "import.sh")
	for _, want := range []string{
		"please clean it first",
		"Clean the previous job, Yes or No: Answer yes or no\nClean the previous job, Yes or No: ",
		"Clean job:local_test completed.",
		"Start import service completed.",
		"Import to oss completed.\nStop import service, Yes or No: ",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("import.sh answering maybe, y, n: no %q in %s", want, r)
		}
	}
	if r.code != 0 || h.servicePid() == 0 {
		t.Fatalf("import.sh answering no to stop: exit %d, service pid %d", r.code, h.servicePid())
	}

	r = h.run("no\n", fast, "bash", "import.sh")
	if r.code != 1 || !strings.Contains(r.stdout, "please clean it first") {
		t.Fatalf("import.sh refusing to clean: %s", r)
	}
	h.mustConsole("Stop import service completed.\n", "stop")
}

// TestConsoleScript: console.sh runs the verbs with conf/sys.properties,
// and refuses to run without it.
func TestConsoleScript(t *testing.T) {
	h := newTestHome(t, "", "")
	h.installScripts()
	r := h.run("", nil, "bash", "console.sh", "stat")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "no jobs is running or finished." {
		t.Fatalf("console.sh stat: %s", r)
	}
	r = h.run("", nil, "bash", "console.sh", "bogus")
	if r.code != 1 || r.stdout != usageText {
		t.Fatalf("console.sh bogus: %s", r)
	}
	r = h.run("", nil, "bash", "console.sh")
	if r.code != 1 || r.stdout != usageText {
		t.Fatalf("console.sh without a verb: %s", r)
	}

	bare := t.TempDir()
	data, _ := os.ReadFile(filepath.Join(h.dir, "console.sh"))
	if err := os.WriteFile(filepath.Join(bare, "console.sh"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	r = h.run("", []string{"OSS_IMPORT_HOME="}, "bash", filepath.Join(bare, "console.sh"), "stat")
	want := "Error: ossimport system configuration:" + filepath.Join(bare, "conf", "sys.properties") + " not found.\n"
	if r.code != 2 || r.stdout != want {
		t.Fatalf("console.sh without sys.properties: want %q, got %s", want, r)
	}
}
