package deploy

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/service"
)

// embeddedCluster is a natsEmbeddedCluster deployment of four lines,
// this machine first, with natsAutoTls on (the default).
func embeddedCluster(t *testing.T, workingDir string) *service.Cluster {
	t.Helper()
	conf := t.TempDir()
	if err := os.WriteFile(filepath.Join(conf, "workers"), []byte("127.0.0.1\n10.0.0.2\n10.0.0.3\n10.0.0.4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, diags := config.ParseSys(filepath.Join(conf, "sys.properties"), []byte("workingDir="+workingDir+"\nnatsEmbeddedCluster=true\n"))
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	c, err := service.LoadCluster(s, "")
	if err != nil || c == nil {
		t.Fatalf("LoadCluster: %v", err)
	}
	return c
}

// TestInstallFilesPerHost: every remote host gets the binary and the
// workers' sys.properties, with natsEmbeddedCluster the workers file,
// with natsAutoTls the CA; only the members, which run NATS servers,
// get the server certificate and its key (mode 0600).
func TestInstallFilesPerHost(t *testing.T) {
	c := embeddedCluster(t, "/srv/ossimport")
	files := InstallFiles(c, "/opt/ossimport", "/tmp/sys-copy")
	remote := func(fs []File) []string {
		var out []string
		for _, f := range fs {
			out = append(out, f.Remote)
		}
		return out
	}
	common := []string{RemoteBinary, RemoteSys, RemoteWorkers, "nats/tls/ca.pem"}
	for i, h := range c.Remote {
		got := remote(files(i))
		want := common
		if h.Host != "10.0.0.4" {
			want = append(slices.Clone(common), "nats/tls/server.pem", "nats/tls/server.key")
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s gets %v, want %v", h.Host, got, want)
		}
	}
	for _, f := range files(0) {
		if f.Remote == "nats/tls/server.key" && f.Mode != 0o600 {
			t.Errorf("the server key is copied with mode %o", f.Mode)
		}
	}
	c.Sys.NATSAutoTLS = false
	if got := remote(InstallFiles(c, "/opt/ossimport", "/tmp/sys-copy")(0)); !slices.Equal(got, []string{RemoteBinary, RemoteSys, RemoteWorkers}) {
		t.Errorf("without natsAutoTls: %v", got)
	}
}

// TestRemoteCmd: a remote command runs the deployed binary in the
// quoted working directory (relative to the login directory when it
// starts with ~/, see TestRemoteWorkDir), and exits with notDeployed when either is
// missing.
func TestRemoteCmd(t *testing.T) {
	c := embeddedCluster(t, "/srv/my dir")
	got := remoteCmd(c, " >>logs/x 2>&1", "worker", "--name", "a b")
	want := `{ cd '/srv/my dir' && [ -x bin/ossimport ]; } 2>/dev/null || exit 127; mkdir -p logs && exec bin/ossimport 'worker' '--name' 'a b' >>logs/x 2>&1`
	if got != want {
		t.Fatalf("remoteCmd:\n got %s\nwant %s", got, want)
	}
}
