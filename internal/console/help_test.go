package console

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ossimport/ossimport/internal/version"
)

// TestRootVersionHelpAndCompletion: --version prints the version verb's
// line, --help carries the exit-status table, help <verb> shows the
// verb's help, and cobra's completion scripts are generated for bash and
// zsh.
func TestRootVersionHelpAndCompletion(t *testing.T) {
	run := func(args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := Execute(args, &stdout, &stderr); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr.String())
		}
		return stdout.String()
	}
	if got, want := run("--version"), version.Get().String()+"\n"; got != want {
		t.Errorf("--version: %q, want %q", got, want)
	}
	help := run("--help")
	for _, want := range []string{"Exit statuses:", "  0    done", "  1    the work", "  2    the command could not start", "  130  interrupted"} {
		if !strings.Contains(help, want) {
			t.Errorf("--help lacks %q:\n%s", want, help)
		}
	}
	if got := run("help", "run"); !strings.Contains(got, "run plans the job") {
		t.Errorf("help run:\n%s", got)
	}
	if got := run("completion", "bash"); !strings.Contains(got, "bash completion") {
		t.Errorf("completion bash:\n%.200s", got)
	}
	if got := run("completion", "zsh"); !strings.HasPrefix(got, "#compdef ossimport") {
		t.Errorf("completion zsh:\n%.200s", got)
	}
}
