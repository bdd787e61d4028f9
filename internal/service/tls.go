package service

import (
	"fmt"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/workdir"
)

// TLS of the NATS traffic: natsTlsCert/natsTlsKey/natsTlsCaFile when
// set; else, in distributed mode, the private CA and server certificate
// that deploy generates (natsAutoTls, on by default); else none (a
// standalone service listens on loopback only).

// AutoTLS is the generated CA and server certificate of a working
// directory.
func AutoTLS(dir workdir.Dir) bus.AutoTLS {
	return bus.AutoTLS{Dir: dir.AutoTLS()}
}

// TLS are the TLS files of the embedded NATS servers and of the clients
// that reach them; all empty without TLS.
type TLS struct{ Cert, Key, CA string }

func (t TLS) on() bool { return t.Cert != "" || t.CA != "" }

// scheme is the URL scheme clients use.
func (t TLS) scheme() string {
	if t.on() {
		return "tls"
	}
	return "nats"
}

// AutoTLSOn reports whether the deployment encrypts NATS with the
// generated certificates.
func AutoTLSOn(s *config.Sys, c *Cluster) bool {
	return s.NATSAutoTLS && s.NATSTLSCert == "" && len(s.NATSURLs) == 0 && (c.Distributed() || c.Embedded())
}

// TLSFiles are the deployment's NATS TLS files as seen from dir.
func TLSFiles(s *config.Sys, dir workdir.Dir, c *Cluster) TLS {
	if s.NATSTLSCert != "" {
		ca := s.NATSTLSCAFile
		if ca == "" {
			ca = s.NATSTLSCert // a self-signed certificate is its own CA
		}
		return TLS{Cert: s.NATSTLSCert, Key: s.NATSTLSKey, CA: ca}
	}
	if !AutoTLSOn(s, c) {
		return TLS{}
	}
	a := AutoTLS(dir)
	return TLS{Cert: a.Cert(), Key: a.Key(), CA: a.CA()}
}

// ServerHosts are the hosts of the workers file whose NATS servers the
// generated certificate names: the first (the master's), and with
// natsEmbeddedCluster the first three; natsListen too when it names an
// address.
func (c *Cluster) ServerHosts() []string {
	var hosts []string
	n := 1
	if c.Embedded() {
		n = config.EmbeddedClusterSize
	}
	for i, h := range c.Hosts {
		if i < n {
			hosts = append(hosts, h.Host)
		}
	}
	if l := c.Sys.NATSListen; l != "" {
		hosts = append(hosts, l)
	}
	return hosts
}

// EnsureServerTLS makes sure the service's NATS server has its
// certificate when auto TLS is on: the first host of the workers file
// generates what is missing (as deploy does); another host that runs a
// server must have had it deployed.
func EnsureServerTLS(s *config.Sys, dir workdir.Dir, c *Cluster) error {
	if !AutoTLSOn(s, c) {
		return nil
	}
	a := AutoTLS(dir)
	if IsLocalHost(c.Master.Host) {
		if err := a.Ensure(c.ServerHosts()); err != nil {
			return fmt.Errorf("generate the NATS TLS certificate (natsAutoTls): %w", err)
		}
		return nil
	}
	if !a.Ready() {
		return fmt.Errorf("natsAutoTls: the NATS TLS certificate is not in %s: run `console.sh deploy` on the first host of %s (it generates and copies it), or set natsAutoTls=false", a.Dir, c.Workers)
	}
	return nil
}

// serverCA is the CA the embedded server verifies peers with:
// natsTlsCaFile when TLS is configured, the generated CA with
// natsAutoTls.
func serverCA(s *config.Sys, t TLS) string {
	if s.NATSTLSCert != "" {
		return s.NATSTLSCAFile
	}
	return t.CA
}
