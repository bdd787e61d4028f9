package console

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConsoleUsage: no verb, an unknown verb or wrong arguments print
// ossimport's usage and exit 1; verbs take a capitalised first letter.
func TestConsoleUsage(t *testing.T) {
	work := t.TempDir()
	sys := filepath.Join(work, "sys.properties")
	if err := os.WriteFile(sys, []byte("workingDir="+work+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"console"},
		{"console", "bogus"},
		{"console", "bogus", "--sys", sys},
		{"console", "clean", "--sys", sys},
		{"console", "clean", "a", "b", "--sys", sys},
		{"console", "submit", "a.cfg", "b.cfg", "--sys", sys},
		{"console", "start", "now", "--sys", sys},
		{"console", "stop", "now", "--sys", sys},
		{"console", "stat", "a", "b", "--sys", sys},
		{"console", "version", "extra"},
		{"console", "stat", "--bogus"},
	} {
		var stdout, stderr bytes.Buffer
		if code := Execute(args, &stdout, &stderr); code != 1 || stdout.String() != usageText {
			t.Errorf("%v: exit %d, stdout:\n%s\nstderr:\n%s", args, code, stdout.String(), stderr.String())
		}
	}
	for _, args := range [][]string{{"console", "Stat", "--sys", sys}, {"console", "Version"}, {"console", "version", "--sys", sys}} {
		var stdout, stderr bytes.Buffer
		if code := Execute(args, &stdout, &stderr); code != 0 || stdout.Len() == 0 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, stdout.String(), stderr.String())
		}
	}
}

// TestSubmitRefusals: a job file with errors, or a source that cannot be
// listed, is refused before anything is recorded, on lines holding
// "Error:" (the scripts look for it).
func TestSubmitRefusals(t *testing.T) {
	work := t.TempDir()
	sys := filepath.Join(work, "conf", "sys.properties")
	write := func(path, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(sys, "workingDir="+work+"\n")
	dst := t.TempDir()
	for _, c := range []struct{ name, cfg, want string }{
		{"invalid", "jobName=x\nsrcType=local\nsrcPrefix=relative\ndestType=local\ndestBucket=" + dst + "\n", "Error: "},
		{"unlistable", "jobName=local_test\nsrcType=local\nsrcPrefix=" + filepath.Join(work, "missing") + "/\ndestType=local\ndestBucket=" + dst + "\n",
			"Error: preflight failed: cannot list the source"},
		{"missing", "", "Error: cannot read the job file"},
	} {
		job := filepath.Join(work, c.name+".cfg")
		if c.cfg != "" {
			write(job, c.cfg)
		}
		var stdout, stderr bytes.Buffer
		code := Execute([]string{"console", "submit", job, "--sys", sys}, &stdout, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), c.want) || stdout.Len() != 0 {
			t.Errorf("%s: exit %d, stdout %q, stderr:\n%s", c.name, code, stdout.String(), stderr.String())
		}
	}
	if _, err := os.Stat(filepath.Join(work, "master")); !os.IsNotExist(err) {
		t.Errorf("a refused submit recorded something: %v", err)
	}
}
