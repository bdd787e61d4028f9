package testenv

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// ErrUnavailable is wrapped by errors meaning "this dependency cannot be had on
// this machine" (not installable, not root, ...). The TB helpers skip on it
// unless running in CI.
var ErrUnavailable = errors.New("testenv: dependency unavailable")

func unavailable(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnavailable, fmt.Sprintf(format, args...))
}

// InCI reports whether the CI environment variable is set (to anything but
// "", "0" or "false").
func InCI() bool {
	v := strings.TrimSpace(os.Getenv("CI"))
	return v != "" && v != "0" && !strings.EqualFold(v, "false")
}

// skipOrFatal ends the test for err: Skip when err wraps ErrUnavailable and
// we are not in CI, Fatal otherwise.
func skipOrFatal(t testing.TB, what string, err error) {
	t.Helper()
	if errors.Is(err, ErrUnavailable) && !InCI() {
		t.Skipf("testenv: skipping, %s is not available here (set CI=1 to make this a failure): %v", what, err)
	}
	t.Fatalf("testenv: %s: %v", what, err)
}

// CacheDir is where installed test servers live:
// $OSSIMPORT_TEST_CACHE, or $HOME/.cache/ossimport-test.
func CacheDir() string {
	if d := os.Getenv("OSSIMPORT_TEST_CACHE"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		home = "/root"
	}
	return filepath.Join(home, ".cache", "ossimport-test")
}

func noInstall() bool { return os.Getenv("OSSIMPORT_TEST_NO_INSTALL") == "1" }

var (
	scriptsOnce sync.Once
	scriptsPath string
	scriptsErr  error
)

// ScriptsDir returns the absolute path of scripts/testenv in this checkout.
func ScriptsDir() (string, error) {
	scriptsOnce.Do(func() {
		const rel = "scripts/testenv"
		isIt := func(dir string) bool {
			st, err := os.Stat(filepath.Join(dir, rel, "versions.env"))
			return err == nil && st.Mode().IsRegular()
		}
		// go test runs a test binary in its package directory, inside the module.
		if wd, err := os.Getwd(); err == nil {
			for d := wd; ; d = filepath.Dir(d) {
				if isIt(d) {
					scriptsPath = filepath.Join(d, rel)
					return
				}
				if filepath.Dir(d) == d {
					break
				}
			}
		}
		// Fall back on this source file's location (absent with -trimpath).
		if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
			root := filepath.Join(filepath.Dir(file), "..", "..")
			if isIt(root) {
				scriptsPath = filepath.Join(root, rel)
				return
			}
		}
		scriptsErr = unavailable("cannot find %s (looked upwards from the working directory)", rel)
	})
	return scriptsPath, scriptsErr
}

var (
	versionsOnce sync.Once
	versionsMap  map[string]string
	versionsErr  error
)

// pinnedVersion returns NAME from scripts/testenv/versions.env.
func pinnedVersion(name string) (string, error) {
	versionsOnce.Do(func() {
		dir, err := ScriptsDir()
		if err != nil {
			versionsErr = err
			return
		}
		data, err := os.ReadFile(filepath.Join(dir, "versions.env"))
		if err != nil {
			versionsErr = err
			return
		}
		versionsMap = map[string]string{}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				versionsErr = fmt.Errorf("versions.env: bad line %q", line)
				return
			}
			versionsMap[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	})
	if versionsErr != nil {
		return "", versionsErr
	}
	v, ok := versionsMap[name]
	if !ok || v == "" {
		return "", fmt.Errorf("versions.env has no %s", name)
	}
	return v, nil
}

var (
	installMu   sync.Mutex
	installLock = map[string]*sync.Mutex{}
)

// ensureInstalled returns the path of an installed component. present is the
// path expected when it is installed; if it is executable it is returned at
// once. Otherwise scripts/testenv/<script> is run (it takes a cross-process
// lock and prints the installed path as its last stdout line).
func ensureInstalled(ctx context.Context, component, present, script string) (string, error) {
	installMu.Lock()
	mu := installLock[component]
	if mu == nil {
		mu = new(sync.Mutex)
		installLock[component] = mu
	}
	installMu.Unlock()
	mu.Lock() // one install per component at a time in this process
	defer mu.Unlock()

	if present != "" && isExecutable(present) {
		return present, nil
	}
	if noInstall() {
		return "", unavailable("%s is not installed (%s) and OSSIMPORT_TEST_NO_INSTALL=1", component, present)
	}
	dir, err := ScriptsDir()
	if err != nil {
		return "", err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 30*time.Minute)
		defer cancel()
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(dir, script))
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return "", unavailable("installing %s with scripts/testenv/%s failed after %s: %v\n%s",
			component, script, time.Since(start).Round(time.Millisecond), err, lastLines(stderr.String(), 30))
	}
	path := strings.TrimSpace(lastLines(strings.TrimSpace(stdout.String()), 1))
	if path == "" || !isExecutable(path) {
		return "", unavailable("scripts/testenv/%s printed %q, which is not an executable\n%s",
			script, path, lastLines(stderr.String(), 30))
	}
	return path, nil
}

func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	s = strings.TrimRight(s, "\n")
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
