package console

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const repoRoot = "../.."

// runCheckCmd runs "check args..." and returns its output and error.
func runCheckCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newCheckCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func exitCode(err error) int {
	var e *ExitError
	if errors.As(err, &e) {
		return e.Code
	}
	if err != nil {
		return -1
	}
	return 0
}

func TestCheckTemplates(t *testing.T) {
	t.Setenv("OSS_IMPORT_HOME", t.TempDir())
	conf := filepath.Join(repoRoot, "conf")
	for _, job := range []string{"local_job.cfg", "job.cfg"} {
		out, err := runCheckCmd(t, filepath.Join(conf, job),
			"--sys", filepath.Join(conf, "sys.properties"), "--workers", filepath.Join(conf, "workers.example"))
		if err != nil {
			t.Fatalf("%s: %v\n%s", job, err, out)
		}
		for _, want := range []*regexp.Regexp{
			regexp.MustCompile(`(?m)^jobType +  = import +  # line \d+$`),
			regexp.MustCompile(`(?m)^workerMaxThroughput\(KB/s\) += 0 +# line \d+$`),
			regexp.MustCompile(`(?m)^192\.168\.1\.6 +# line \d+, master and worker$`),
			regexp.MustCompile(`(?m)^check: OK, 1 warning$`),
		} {
			if !want.MatchString(out) {
				t.Errorf("%s: output does not match %s\n%s", job, want, out)
			}
		}
	}
}

func TestCheckDefaultFilesFromHome(t *testing.T) {
	t.Setenv("OSS_IMPORT_HOME", repoRoot)
	out, err := runCheckCmd(t)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"# " + filepath.Join(repoRoot, "conf", "job.cfg"), "# " + filepath.Join(repoRoot, "conf", "sys.properties"),
		"jobName"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q\n%s", want, out)
		}
	}
}

func TestCheckBrokenJob(t *testing.T) {
	t.Setenv("OSS_IMPORT_HOME", t.TempDir())
	path := filepath.Join(repoRoot, "testdata", "config", "bad", "local-prefix.cfg")
	out, err := runCheckCmd(t, path)
	if code := exitCode(err); code != 1 {
		t.Fatalf("exit code %d (%v)\n%s", code, err, out)
	}
	for _, want := range []string{
		"error: " + path + `:4: srcPrefix "/data/x" must end with "/" (write /data/x/)`,
		"error: " + path + `:2: jobName "abc" must be 4 to 128 letters, digits, '_' or '-' (e.g. local_test)`,
		"check: 4 errors, 0 warnings",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q\n%s", want, out)
		}
	}
	if !strings.Contains(err.Error(), "4 errors") {
		t.Errorf("error %q", err)
	}
}

func TestCheckBrokenSysAndWorkers(t *testing.T) {
	t.Setenv("OSS_IMPORT_HOME", t.TempDir())
	bad := filepath.Join(repoRoot, "testdata", "config", "bad")
	out, err := runCheckCmd(t, filepath.Join(repoRoot, "conf", "local_job.cfg"),
		"--sys", filepath.Join(bad, "schedule.properties"), "--workers", filepath.Join(bad, "dup.workers"))
	if exitCode(err) != 1 {
		t.Fatalf("exit code %d\n%s", exitCode(err), out)
	}
	for _, want := range []string{"workerMaxThroughputSchedule", `worker "10.0.0.2" is already listed on line 3`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q\n%s", want, out)
		}
	}
}

func TestCheckMissingFile(t *testing.T) {
	t.Setenv("OSS_IMPORT_HOME", t.TempDir())
	_, err := runCheckCmd(t)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "job.cfg") {
		t.Fatalf("err = %v", err)
	}
	if _, err := runCheckCmd(t, "a", "b"); err == nil {
		t.Error("two job files accepted")
	}
}

func TestCheckMasksSecrets(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("OSS_IMPORT_HOME", dir)
	job := filepath.Join(dir, "job.cfg")
	text := "jobName=secret_test\nsrcType=oss\nsrcAccessKey=LTAI5tVISIBLEPREFIXhiddenpart\nsrcSecretKey=TOPSECRETVALUE\n" +
		"srcBucket=b\nsrcDomain=http://oss-cn-beijing.aliyuncs.com\ndestDomain=http://oss-cn-hangzhou.aliyuncs.com\n" +
		"destBucket=d\ndestAccessKey=LTAI5tOTHERKEYhiddenpart\ndestSecretKey=TOPSECRETVALUE\nsrcSecretKey=TOPSECRETVALUE\\u12\n"
	if err := os.WriteFile(job, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _ := runCheckCmd(t, job)
	if strings.Contains(out, "TOPSECRET") || strings.Contains(out, "hiddenpart") {
		t.Errorf("secret printed:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^srcSecretKey +  = \*\*\*\* +# line 4$`).MatchString(out) {
		t.Errorf("masked secret line missing:\n%s", out)
	}
}

func TestCheckExitCodeThroughRoot(t *testing.T) {
	t.Setenv("OSS_IMPORT_HOME", t.TempDir())
	var stdout, stderr bytes.Buffer
	path := filepath.Join(repoRoot, "testdata", "config", "bad", "ranges.cfg")
	if code := Execute([]string{"check", path}, &stdout, &stderr); code != 1 {
		t.Fatalf("exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	if strings.Contains(stderr.String(), "goroutine") || !strings.Contains(stderr.String(), "configuration has 10 errors") {
		t.Errorf("stderr %q", stderr.String())
	}
	stdout.Reset()
	if code := Execute([]string{"check", filepath.Join(repoRoot, "conf", "local_job.cfg")}, &stdout, &stderr); code != 0 {
		t.Fatalf("template exit %d\n%s", code, stdout.String())
	}
}

// check warns when natsAutoTls=false would send NATS traffic between
// machines in clear text, and says nothing with the default.
func TestCheckWarnsOfPlainNATSBetweenMachines(t *testing.T) {
	t.Setenv("OSS_IMPORT_HOME", t.TempDir())
	dir := t.TempDir()
	workers := filepath.Join(dir, "workers")
	if err := os.WriteFile(workers, []byte("127.0.0.1\n192.0.2.10\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		sys  string
		warn bool
	}{
		{"workingDir=" + dir + "\nnatsAutoTls=false\n", true},
		{"workingDir=" + dir + "\n", false},
	} {
		sys := filepath.Join(dir, "sys.properties")
		if err := os.WriteFile(sys, []byte(tc.sys), 0o644); err != nil {
			t.Fatal(err)
		}
		out, _ := runCheckCmd(t, filepath.Join(repoRoot, "conf", "local_job.cfg"), "--sys", sys, "--workers", workers)
		if got := strings.Contains(out, "natsAutoTls=false: NATS traffic between the machines"); got != tc.warn {
			t.Errorf("%q: warning shown %v, want %v\n%s", tc.sys, got, tc.warn, out)
		}
	}
}
