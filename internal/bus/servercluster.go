package bus

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"

	"github.com/nats-io/nats-server/v2/server"
)

// DefaultClusterName names the JetStream cluster of embedded servers.
const DefaultClusterName = "ossimport"

// routeUser is the user name routes authenticate with; the password is
// the token, the same on every server of the cluster.
const routeUser = "ossimport"

// ClusterOptions join an embedded server to a cluster of embedded
// servers (natsEmbeddedCluster): each has its own store and its own
// ServerName, all share the cluster Name and the token (ServerOptions.
// TokenFile must hold the same token on every server), and each routes
// to the others. With TLS (natsTlsCert/natsTlsKey) the routes use the
// same certificate and verify their peers against natsTlsCaFile, or the
// certificate itself when it is self-signed.
type ClusterOptions struct {
	// ServerName is this server's unique name in the cluster, e.g. its
	// host name or address; required.
	ServerName string
	// Name is the cluster's name, the same on every server;
	// DefaultClusterName when empty.
	Name string
	// Host is the route listen address; ServerOptions.Host when empty.
	Host string
	// Port is the route port (natsClusterPort); required.
	Port int
	// Routes are the other servers' route addresses (host:port).
	Routes []string
}

// Validate checks the options.
func (c *ClusterOptions) Validate() error {
	if c.ServerName == "" {
		return errors.New("bus: ClusterOptions.ServerName is required (a unique name per server)")
	}
	if c.Port <= 0 || c.Port > 65535 {
		return fmt.Errorf("bus: cluster port %d is not a port (set natsClusterPort)", c.Port)
	}
	for _, r := range c.Routes {
		host, port, err := net.SplitHostPort(r)
		if err != nil || host == "" {
			return fmt.Errorf("bus: cluster route %q is not host:port", r)
		}
		if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 {
			return fmt.Errorf("bus: cluster route %q has no valid port", r)
		}
	}
	return nil
}

// serverName is the server's name: the cluster's ServerName, else
// "ossimport".
func serverName(o ServerOptions) string {
	if o.Cluster != nil && o.Cluster.ServerName != "" {
		return o.Cluster.ServerName
	}
	return "ossimport"
}

// applyCluster fills nopts' cluster settings from o.Cluster.
func applyCluster(nopts *server.Options, o ServerOptions, token string, tlsConf *tls.Config) error {
	c := o.Cluster
	if c == nil {
		return nil
	}
	if err := c.Validate(); err != nil {
		return err
	}
	name, host := c.Name, c.Host
	if name == "" {
		name = DefaultClusterName
	}
	if host == "" {
		host = nopts.Host
	}
	if o.InProcessOnly {
		return errors.New("bus: a clustered embedded server cannot be in-process only")
	}
	if err := checkPortFree(host, c.Port); err != nil {
		return fmt.Errorf("%w (the cluster port, natsClusterPort)", err)
	}
	nopts.Cluster = server.ClusterOpts{
		Name: name, Host: host, Port: c.Port,
		Username: routeUser, Password: token, AuthTimeout: 5,
	}
	for _, r := range c.Routes {
		scheme := "nats-route"
		if tlsConf != nil {
			scheme = "tls"
		}
		nopts.Routes = append(nopts.Routes, &url.URL{Scheme: scheme, User: url.UserPassword(routeUser, token), Host: r})
	}
	if tlsConf != nil {
		rt, err := routeTLS(o, tlsConf)
		if err != nil {
			return err
		}
		nopts.Cluster.TLSConfig, nopts.Cluster.TLSTimeout = rt, 5
	}
	return nil
}

// routeTLS is the routes' TLS: the server certificate both ways, peers
// verified against natsTlsCaFile or the certificate itself.
func routeTLS(o ServerOptions, base *tls.Config) (*tls.Config, error) {
	ca := o.TLSCAFile
	if ca == "" {
		ca = o.TLSCert
	}
	pool, err := loadCAPool(ca)
	if err != nil {
		return nil, err
	}
	rt := base.Clone()
	rt.RootCAs, rt.ClientCAs = pool, pool
	rt.ClientAuth = tls.RequireAndVerifyClientCert
	return rt, nil
}
