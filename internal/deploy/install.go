package deploy

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/service"
	"github.com/ossimport/ossimport/internal/workdir"
)

// What `console deploy` copies to a host: the binary, the workers' copy
// of sys.properties, with natsEmbeddedCluster the workers file, and with
// natsAutoTls the generated TLS files.

// Where deploy puts the generated TLS files in the remote working
// directory.
var (
	remoteTLS        = bus.AutoTLS{Dir: path.Join(workdir.NATSDir, workdir.AutoTLSDir)}
	remoteCA         = filepath.ToSlash(remoteTLS.CA())
	remoteServerCert = filepath.ToSlash(remoteTLS.Cert())
	remoteServerKey  = filepath.ToSlash(remoteTLS.Key())
)

// InstallFiles are the files of each remote host of c (by its index in
// c.Remote, as DeployEach asks): exe, the workers' sys.properties
// (sysCopy, see WorkerSysCopy), the workers file when the members'
// services read it, and the generated TLS files when natsAutoTls is on
// (which the caller has ensured).
func InstallFiles(c *service.Cluster, exe, sysCopy string) func(i int) []File {
	files := []File{
		{Local: exe, Remote: RemoteBinary, Mode: 0o755},
		{Local: sysCopy, Remote: RemoteSys, Mode: 0o600},
	}
	if c.Embedded() {
		// The members' services read the hosts (their routes and their
		// workers' names) from the same list.
		files = append(files, File{Local: c.Workers, Remote: RemoteWorkers, Mode: 0o644})
	}
	dir := workdir.Dir(c.Sys.WorkingDir)
	tlsOn := service.AutoTLSOn(c.Sys, c)
	return func(i int) []File {
		if !tlsOn {
			return files
		}
		return append(slices.Clone(files), tlsFiles(dir, c.IsMember(c.Remote[i]))...)
	}
}

// tlsFiles are the generated TLS files a remote host gets: the CA
// certificate for every host, the server certificate and key for the
// hosts that run a NATS server.
func tlsFiles(dir workdir.Dir, server bool) []File {
	a := service.AutoTLS(dir)
	files := []File{{Local: a.CA(), Remote: remoteCA, Mode: 0o644}}
	if server {
		files = append(files, File{Local: a.Cert(), Remote: remoteServerCert, Mode: 0o644}, File{Local: a.Key(), Remote: remoteServerKey, Mode: 0o600})
	}
	return files
}

// WorkerSysCopy writes the workers' copy of sys.properties (see
// config.WorkerSysFile) to a private temporary file; cleanup removes it.
func WorkerSysCopy(s *config.Sys) (name string, cleanup func(), err error) {
	var data []byte
	if s.File() != "" {
		var err error
		if data, err = os.ReadFile(s.File()); err != nil {
			return "", nil, fmt.Errorf("read sys.properties: %w", err)
		}
	}
	data = config.WorkerSysFile(data)
	f, err := os.CreateTemp("", "ossimport-worker-sys-*.properties")
	if err != nil {
		return "", nil, fmt.Errorf("write the workers' sys.properties: %w", err)
	}
	cleanup = func() { _ = os.Remove(f.Name()) }
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		cleanup()
		return "", nil, fmt.Errorf("write the workers' sys.properties: %w", err)
	}
	if err := f.Close(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("write the workers' sys.properties: %w", err)
	}
	return f.Name(), cleanup, nil
}
