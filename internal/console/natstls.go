package console

import (
	"fmt"
	"path/filepath"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/deploy"
	"github.com/ossimport/ossimport/internal/workdir"
)

// TLS of the NATS traffic: natsTlsCert/natsTlsKey/natsTlsCaFile when
// set; else, in distributed mode, the private CA and server certificate
// that deploy generates (natsAutoTls, on by default); else none (a
// standalone service listens on loopback only).

// autoTLSDirName is the folder of bus.AutoTLS under the NATS store's.
const autoTLSDirName = "tls"

// Where deploy puts the generated files in the remote working directory.
var (
	remoteCA         = filepath.ToSlash(filepath.Join(natsDirName, autoTLSDirName, "ca.pem"))
	remoteServerCert = filepath.ToSlash(filepath.Join(natsDirName, autoTLSDirName, "server.pem"))
	remoteServerKey  = filepath.ToSlash(filepath.Join(natsDirName, autoTLSDirName, "server.key"))
)

func autoTLS(dir workdir.Dir) bus.AutoTLS {
	return bus.AutoTLS{Dir: filepath.Join(natsDir(dir), autoTLSDirName)}
}

// natsTLS are the TLS files of the embedded NATS servers and of the
// clients that reach them; all empty without TLS.
type natsTLS struct{ cert, key, ca string }

func (t natsTLS) on() bool { return t.cert != "" || t.ca != "" }

// scheme is the URL scheme clients use.
func (t natsTLS) scheme() string {
	if t.on() {
		return "tls"
	}
	return "nats"
}

// autoTLSOn reports whether the deployment encrypts NATS with the
// generated certificates.
func autoTLSOn(s *config.Sys, c *cluster) bool {
	return s.NATSAutoTLS && s.NATSTLSCert == "" && len(s.NATSURLs) == 0 && (c.distributed() || c.embedded())
}

// tlsFiles are the deployment's NATS TLS files as seen from dir.
func tlsFiles(s *config.Sys, dir workdir.Dir, c *cluster) natsTLS {
	if s.NATSTLSCert != "" {
		ca := s.NATSTLSCAFile
		if ca == "" {
			ca = s.NATSTLSCert // a self-signed certificate is its own CA
		}
		return natsTLS{cert: s.NATSTLSCert, key: s.NATSTLSKey, ca: ca}
	}
	if !autoTLSOn(s, c) {
		return natsTLS{}
	}
	a := autoTLS(dir)
	return natsTLS{cert: a.Cert(), key: a.Key(), ca: a.CA()}
}

// serverHosts are the hosts of the workers file whose NATS servers the
// generated certificate names: the first (the master's), and with
// natsEmbeddedCluster the first three; natsListen too when it names an
// address.
func (c *cluster) serverHosts() []string {
	var hosts []string
	n := 1
	if c.embedded() {
		n = config.EmbeddedClusterSize
	}
	for i, h := range c.hosts {
		if i < n {
			hosts = append(hosts, h.Host)
		}
	}
	if l := c.sys.NATSListen; l != "" {
		hosts = append(hosts, l)
	}
	return hosts
}

// ensureServerTLS makes sure the service's NATS server has its
// certificate when auto TLS is on: the first host of the workers file
// generates what is missing (as deploy does); another host that runs a
// server must have had it deployed.
func ensureServerTLS(s *config.Sys, dir workdir.Dir, c *cluster) error {
	if !autoTLSOn(s, c) {
		return nil
	}
	a := autoTLS(dir)
	if isLocalHost(c.master.Host) {
		if err := a.Ensure(c.serverHosts()); err != nil {
			return fmt.Errorf("generate the NATS TLS certificate (natsAutoTls): %w", err)
		}
		return nil
	}
	if !a.Ready() {
		return fmt.Errorf("natsAutoTls: the NATS TLS certificate is not in %s: run `console.sh deploy` on the first host of %s (it generates and copies it), or set natsAutoTls=false", a.Dir, c.workers)
	}
	return nil
}

// deployTLSFiles are the generated TLS files a remote host gets: the CA
// certificate for every host, the server certificate and key for the
// hosts that run a NATS server.
func deployTLSFiles(dir workdir.Dir, server bool) []deploy.File {
	a := autoTLS(dir)
	files := []deploy.File{{Local: a.CA(), Remote: remoteCA, Mode: 0o644}}
	if server {
		files = append(files, deploy.File{Local: a.Cert(), Remote: remoteServerCert, Mode: 0o644}, deploy.File{Local: a.Key(), Remote: remoteServerKey, Mode: 0o600})
	}
	return files
}
