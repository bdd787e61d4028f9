package deploy

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/testenv"
)

// TestDeployNetworkHosts deploys to three hosts in their own network
// namespaces (sshd on port 22 of each), then unplugs one and deploys again.
func TestDeployNetworkHosts(t *testing.T) {
	if testing.Short() {
		t.Skip("network namespaces: skipped in -short mode")
	}
	nh := testenv.NetworkHosts(t, 3)
	srvs, opts := sharedKeyServers(t, len(nh), func(i int) testenv.SSHOptions {
		return testenv.SSHOptions{ListenAddr: nh[i].IP, NetNS: nh[i].NS}
	})
	var hosts []config.WorkerHost
	for _, s := range srvs {
		if s.Port != 22 {
			t.Fatalf("sshd in namespace listens on %d, want 22", s.Port)
		}
		hosts = append(hosts, config.WorkerHost{Host: s.Host}) // port from opts (default 22)
	}
	opts.WorkingDir = filepath.Join(t.TempDir(), "workdir")
	opts.Timeout = 2 * time.Second
	files := deployFiles(t)

	res := Deploy(testCtx(t), hosts, opts, files)
	var buf bytes.Buffer
	FormatResults(&buf, res)
	t.Logf("first deploy:\n%s", buf.String())
	for _, r := range res {
		if r.Err != nil || len(r.Uploaded)+len(r.Skipped) != len(files) {
			t.Fatalf("host %s: %+v", r.Addr, r)
		}
	}

	nh[1].LinkDown(t)
	defer nh[1].LinkUp(t)
	res = Deploy(testCtx(t), hosts, opts, files)
	buf.Reset()
	FormatResults(&buf, res)
	t.Logf("with %s unplugged:\n%s", nh[1].Name, buf.String())
	for i, r := range res {
		if i == 1 {
			var ue *UnreachableError
			if !errors.As(r.Err, &ue) || !strings.Contains(r.Err.Error(), "no answer within 2s") {
				t.Fatalf("unplugged host %s: %v, want UnreachableError", r.Addr, r.Err)
			}
			continue
		}
		if r.Err != nil || len(r.Skipped) != len(files) {
			t.Fatalf("host %s: %+v, want all files skipped", r.Addr, r)
		}
	}
}
