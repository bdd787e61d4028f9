package console

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestDistPackages builds the distribution tarballs with scripts/dist.sh
// (for this machine's architecture), checks the seed's layout of both,
// and runs the unpacked binaries.
func TestDistPackages(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the distribution")
	}
	out := t.TempDir()
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", filepath.Join(root, "scripts", "dist.sh"))
	cmd.Dir = root
	cmd.Env = append(childEnv(), "DIST_DIR="+out, "DIST_ARCHS="+runtime.GOARCH, "VERSION=v9.9.9-test")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dist.sh: %v\n%s", err, b)
	}
	base := "ossimport-v9.9.9-test-linux-" + runtime.GOARCH
	for _, tc := range []struct {
		name  string
		files []string
	}{
		{base, []string{"LICENSE", "README.md", "bin/", "bin/ossimport", "conf/", "conf/job.cfg", "conf/sys.properties", "conf/workers", "console.sh", "docs/", "docs/configuration.md", "logs/"}},
		{base + "-standalone", []string{"LICENSE", "README.md", "bin/", "bin/ossimport", "conf/", "conf/local_job.cfg", "conf/sys.properties", "console.sh", "docs/", "docs/configuration.md", "import.sh", "logs/"}},
	} {
		tarball := filepath.Join(out, tc.name+".tar.gz")
		list, err := exec.Command("tar", "tzf", tarball).Output()
		if err != nil {
			t.Fatalf("list %s: %v", tarball, err)
		}
		var got []string
		for _, l := range strings.Fields(string(list)) {
			if rel := strings.TrimPrefix(l, tc.name+"/"); rel != "" && rel != l {
				got = append(got, rel)
			} else if l != tc.name+"/" {
				t.Errorf("%s: %q is outside the package folder", tc.name, l)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.files) {
			t.Errorf("%s holds %v, want %v", tc.name, got, tc.files)
		}
		dir := t.TempDir()
		if b, err := exec.Command("tar", "xzf", tarball, "-C", dir).CombinedOutput(); err != nil {
			t.Fatalf("unpack %s: %v\n%s", tarball, err, b)
		}
		home := filepath.Join(dir, tc.name)
		v := exec.Command("bash", filepath.Join(home, "console.sh"), "version")
		v.Env = childEnv()
		b, err := v.CombinedOutput()
		if err != nil || !strings.Contains(string(b), "v9.9.9-test") {
			t.Errorf("%s: console.sh version: %v\n%s", tc.name, err, b)
		}
		if fi, err := os.Stat(filepath.Join(home, "bin", "ossimport")); err != nil || fi.Mode().Perm() != 0o755 {
			t.Errorf("%s: bin/ossimport: %v", tc.name, err)
		}
		checkPackageReadme(t, home, "v9.9.9-test")
	}
	checkSums(t, out, []string{base + ".tar.gz", base + "-standalone.tar.gz"})
	// The distributed package's workers file ships commented out: check
	// refuses it until the operator lists machines, then passes.
	home := filepath.Join(t.TempDir(), base)
	if b, err := exec.Command("tar", "xzf", filepath.Join(out, base+".tar.gz"), "-C", filepath.Dir(home)).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	check := func() (string, error) {
		chk := exec.Command(filepath.Join(home, "bin", "ossimport"), "check", "conf/job.cfg", "--sys", "conf/sys.properties", "--workers", "conf/workers")
		chk.Dir, chk.Env = home, childEnv()
		b, err := chk.CombinedOutput()
		return string(b), err
	}
	if b, err := check(); err == nil || !strings.Contains(b, "no worker hosts listed") {
		t.Errorf("check of the distributed package as shipped: %v, want it to refuse the commented-out workers\n%s", err, b)
	}
	workers := filepath.Join(home, "conf", "workers")
	data, err := os.ReadFile(workers)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(workers, append(data, "127.0.0.1\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := check(); err != nil || !strings.Contains(b, "master and worker") {
		t.Errorf("check of the distributed package with a worker listed: %v\n%s", err, b)
	}
}

// checkPackageReadme: a package's README is the operator's (it names the
// version, starts from the unpacked folder, not from make) and every
// file it names in backquotes as a path of the package exists.
func checkPackageReadme(t *testing.T, home, version string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(home, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	if !strings.HasPrefix(text, "# ossimport "+version+" (") || strings.Contains(text, "make demo") || !strings.Contains(text, "| 130 |") {
		t.Errorf("%s: README.md is not the package's:\n%.300s", home, text)
	}
	for _, rel := range []string{"docs/configuration.md", "LICENSE", "conf/sys.properties", "bin/ossimport"} {
		if !strings.Contains(text, "`"+rel+"`") {
			t.Errorf("%s: README.md does not name %s", home, rel)
		}
		if _, err := os.Stat(filepath.Join(home, rel)); err != nil {
			t.Errorf("%s: README.md names %s, not in the package: %v", home, rel, err)
		}
	}
	if lic, err := os.ReadFile(filepath.Join(home, "LICENSE")); err != nil || !strings.Contains(string(lic), "Apache License") {
		t.Errorf("%s: LICENSE: %v", home, err)
	}
}

// checkSums: SHA256SUMS next to the tarballs lists each of them, and
// sha256sum -c accepts it.
func checkSums(t *testing.T, dir string, tarballs []string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range tarballs {
		if !strings.Contains(string(data), "  "+name+"\n") {
			t.Errorf("SHA256SUMS lacks %s:\n%s", name, data)
		}
	}
	c := exec.Command("sha256sum", "-c", "SHA256SUMS")
	c.Dir = dir
	if b, err := c.CombinedOutput(); err != nil {
		t.Errorf("sha256sum -c: %v\n%s", err, b)
	}
}
