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
		{base, []string{"README.md", "bin/", "bin/ossimport", "conf/", "conf/job.cfg", "conf/sys.properties", "conf/workers", "console.sh", "logs/"}},
		{base + "-standalone", []string{"README.md", "bin/", "bin/ossimport", "conf/", "conf/local_job.cfg", "conf/sys.properties", "console.sh", "import.sh", "logs/"}},
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
	}
	// The distributed package's files pass check as shipped.
	home := filepath.Join(t.TempDir(), base)
	if b, err := exec.Command("tar", "xzf", filepath.Join(out, base+".tar.gz"), "-C", filepath.Dir(home)).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	chk := exec.Command(filepath.Join(home, "bin", "ossimport"), "check", "conf/job.cfg", "--sys", "conf/sys.properties", "--workers", "conf/workers")
	chk.Dir, chk.Env = home, childEnv()
	if b, err := chk.CombinedOutput(); err != nil || !strings.Contains(string(b), "master and worker") {
		t.Errorf("check of the distributed package: %v\n%s", err, b)
	}
}
