package service

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/workdir"
)

// Cluster is what conf/workers says: the settings, the master (the
// first line) and the hosts other than this machine. A nil Cluster is a
// deployment without a workers file.
type Cluster struct {
	Sys     *config.Sys
	Workers string // the workers file
	Master  config.WorkerHost
	// Hosts are all the lines; Remote those that are not this machine.
	Hosts  []config.WorkerHost
	Remote []config.WorkerHost
}

// LoadCluster reads the workers file (see WorkersFile). It returns nil
// (and no error) when there is none.
func LoadCluster(s *config.Sys, workersPath string) (*Cluster, error) {
	file := WorkersFile(workersPath, s)
	if !FileExists(file) {
		return nil, nil
	}
	w, diags, err := config.LoadWorkers(file)
	if err != nil {
		return nil, err
	}
	if err := diags.Err(); err != nil {
		return nil, err
	}
	c := &Cluster{Sys: s, Workers: file, Hosts: w.Hosts}
	c.Master, _ = w.Master()
	for _, h := range w.Hosts {
		if !IsLocalHost(h.Host) {
			c.Remote = append(c.Remote, h)
		}
	}
	return c, nil
}

// Distributed reports whether the workers file lists other machines.
func (c *Cluster) Distributed() bool { return c != nil && len(c.Remote) > 0 }

// Embedded reports whether the deployment runs natsEmbeddedCluster.
func (c *Cluster) Embedded() bool { return c != nil && c.Sys.NATSEmbeddedCluster }

// Mode is what the service runs besides the master (Cluster.Mode, or
// RunMode for `ossimport run`).
type Mode struct {
	// distributed: other machines run workers, so NATS listens on every
	// interface (unless natsListen says otherwise).
	distributed bool
	// worker is the name of the in-process worker, "" for none.
	worker string
	// why explains the mode, for the log.
	why string
}

// RunMode is `ossimport run`'s: a worker named after this machine
// (LocalWorkerName).
func RunMode(s *config.Sys) Mode {
	return Mode{worker: LocalWorkerName(s), why: "ossimport run"}
}

// Mode is what the service of this deployment runs: in standalone mode
// a worker named after this machine (LocalWorkerName); in distributed
// mode one named after the line of the workers file that is this machine
// (the first, the master's, unless this is a standby service of
// natsEmbeddedCluster on the second or third host).
func (c *Cluster) Mode(s *config.Sys) Mode {
	switch {
	case c == nil:
		return Mode{worker: LocalWorkerName(s), why: "standalone (no workers file)"}
	case !c.Distributed():
		return Mode{worker: LocalWorkerName(s), why: "standalone (" + c.Workers + " lists only this machine)"}
	}
	m := Mode{distributed: true, why: fmt.Sprintf("distributed (%s lists %d other machines)", c.Workers, len(c.Remote))}
	if h, ok := c.self(); ok {
		m.worker = h.Host
	} else {
		m.why += "; this machine is not listed, so it runs no worker"
	}
	return m
}

// self is the first line of the workers file that is this machine.
func (c *Cluster) self() (config.WorkerHost, bool) {
	for _, h := range c.Hosts {
		if IsLocalHost(h.Host) {
			return h, true
		}
	}
	return config.WorkerHost{}, false
}

// Members are the remote hosts among the first three of the workers
// file, which run a NATS server and a standby service; nil without
// natsEmbeddedCluster.
func (c *Cluster) Members() []config.WorkerHost {
	if !c.Embedded() || len(c.Hosts) < config.EmbeddedClusterSize {
		return nil
	}
	var out []config.WorkerHost
	for _, h := range c.Hosts[:config.EmbeddedClusterSize] {
		if !IsLocalHost(h.Host) {
			out = append(out, h)
		}
	}
	return out
}

// IsMember reports whether h is one of Members.
func (c *Cluster) IsMember(h config.WorkerHost) bool {
	return slices.ContainsFunc(c.Members(), func(m config.WorkerHost) bool { return m.Line == h.Line })
}

// WorkerHosts are the remote hosts that run only a worker.
func (c *Cluster) WorkerHosts() []config.WorkerHost {
	var out []config.WorkerHost
	for _, h := range c.Remote {
		if !c.IsMember(h) {
			out = append(out, h)
		}
	}
	return out
}

// EmbeddedServer is this host's place in natsEmbeddedCluster (the route
// settings of its embedded NATS server), nil without it. A host that is
// not one of the first three of the workers file cannot run a service
// then: its state would live on the cluster it does not belong to.
func EmbeddedServer(s *config.Sys, c *Cluster) (*bus.ClusterOptions, error) {
	if !s.NATSEmbeddedCluster {
		return nil, nil
	}
	if c == nil {
		return nil, fmt.Errorf("natsEmbeddedCluster=true, but there is no workers file (%s): list the hosts there, the first three run the NATS servers", WorkersFile("", s))
	}
	self := -1
	for i, h := range c.Hosts {
		if i < config.EmbeddedClusterSize && IsLocalHost(h.Host) {
			self = i
			break
		}
	}
	o, err := embeddedClusterOptions(s, &config.Workers{Hosts: c.Hosts}, self)
	if err != nil && self < 0 {
		return nil, fmt.Errorf("%w: run the service (console.sh start, or ossimport run) on one of the first three hosts of %s", err, c.Workers)
	}
	return o, err
}

// WorkerNATS is what the workers of other hosts connect to: the three
// servers of natsEmbeddedCluster, else the master's (natsURLForWorkers).
func (c *Cluster) WorkerNATS() (string, error) {
	if c.Embedded() {
		urls, err := EmbeddedClusterURLs(c.Sys, &config.Workers{Hosts: c.Hosts})
		return strings.Join(urls, ","), err
	}
	return c.natsURLForWorkers(), nil
}

// natsURLForWorkers is the NATS URL workers on other machines connect
// to: natsListen when it names an address, else the master's line of
// conf/workers. "" means natsUrl (an external NATS) from their own
// sys.properties.
func (c *Cluster) natsURLForWorkers() string {
	if len(c.Sys.NATSURLs) > 0 {
		return ""
	}
	host := c.Master.Host
	if l := c.Sys.NATSListen; l != "" {
		if ip := net.ParseIP(l); ip == nil || !ip.IsUnspecified() {
			host = l
		}
	}
	scheme := TLSFiles(c.Sys, workdir.Dir(c.Sys.WorkingDir), c).scheme()
	return scheme + "://" + net.JoinHostPort(host, strconv.Itoa(c.Sys.NATSPort))
}
