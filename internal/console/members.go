package console

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/deploy"
	"github.com/ossimport/ossimport/internal/workdir"
)

// The embedded NATS cluster (natsEmbeddedCluster): each of the first
// three hosts of conf/workers runs the whole service, that is an
// embedded NATS server routed to the other two into one JetStream
// cluster, a master that campaigns for the lease (a standby until it
// wins it) and a worker named after its line. `console start` on the
// first host starts its own service and, over SSH, those of the second
// and third (the members), handing them this host's NATS token on
// standard input; the other hosts run workers connected to all three
// servers. `console stop` stops the workers, then the three services.

// Where a member's service finds the workers file and writes its output
// (relative to the remote working directory).
const (
	remoteWorkers    = "conf/workers"
	remoteServiceOut = "logs/" + serviceLogName
)

// memberJoinWait bounds waiting for a member's worker to send its first
// heartbeat: its service forms the JetStream cluster with this host's
// first, which takes longer than a worker joining.
const memberJoinWait = 2 * time.Minute

// embedded reports whether the deployment runs natsEmbeddedCluster.
func (c *cluster) embedded() bool { return c != nil && c.sys.NATSEmbeddedCluster }

// members are the remote hosts among the first three of the workers
// file, which run a NATS server and a standby service; nil without
// natsEmbeddedCluster.
func (c *cluster) members() []config.WorkerHost {
	if !c.embedded() || len(c.hosts) < config.EmbeddedClusterSize {
		return nil
	}
	var out []config.WorkerHost
	for _, h := range c.hosts[:config.EmbeddedClusterSize] {
		if !isLocalHost(h.Host) {
			out = append(out, h)
		}
	}
	return out
}

// workerHosts are the remote hosts that run only a worker.
func (c *cluster) workerHosts() []config.WorkerHost {
	members := c.members()
	var out []config.WorkerHost
	for _, h := range c.remote {
		if !slices.ContainsFunc(members, func(m config.WorkerHost) bool { return m.Line == h.Line }) {
			out = append(out, h)
		}
	}
	return out
}

// embeddedServer is this host's place in natsEmbeddedCluster (the route
// settings of its embedded NATS server), nil without it. A host that is
// not one of the first three of the workers file cannot run a service
// then: its state would live on the cluster it does not belong to.
func embeddedServer(s *config.Sys, c *cluster) (*bus.ClusterOptions, error) {
	if !s.NATSEmbeddedCluster {
		return nil, nil
	}
	if c == nil {
		return nil, fmt.Errorf("natsEmbeddedCluster=true, but there is no workers file (%s): list the hosts there, the first three run the NATS servers", workersFile("", s))
	}
	self := -1
	for i, h := range c.hosts {
		if i < config.EmbeddedClusterSize && isLocalHost(h.Host) {
			self = i
			break
		}
	}
	o, err := embeddedClusterOptions(s, &config.Workers{Hosts: c.hosts}, self)
	if err != nil && self < 0 {
		return nil, fmt.Errorf("%w: run the service (console.sh start, or ossimport run) on one of the first three hosts of %s", err, c.workers)
	}
	return o, err
}

// workerNATS is what the workers of other hosts connect to: the three
// servers of natsEmbeddedCluster, else the master's (natsURLForWorkers).
func (c *cluster) workerNATS() (string, error) {
	if c.embedded() {
		urls, err := embeddedClusterURLs(c.sys, &config.Workers{Hosts: c.hosts})
		return strings.Join(urls, ","), err
	}
	return c.natsURLForWorkers(), nil
}

// startMembers starts the service of every member that does not run one,
// with this host's NATS token on standard input, and waits until each
// one's worker has joined. It prints one row per host and returns an
// error when any failed. It runs beside the start of this host's
// service, which cannot form the JetStream cluster alone.
func (c *cluster) startMembers(ctx context.Context, stdout io.Writer, dir workdir.Dir, token string) error {
	members := c.members()
	if len(members) == 0 {
		return nil
	}
	return c.eachHost(ctx, stdout, members, "NATS servers and standby services running", func(ctx context.Context, cl *deploy.Client) (string, error) {
		return c.launch(ctx, cl, dir, remoteLaunch{what: "service", out: remoteServiceOut, wait: memberJoinWait, stdin: token + "\n",
			args:   []string{"service", "--sys", remoteSys, "--workers", remoteWorkers, "--token-file", "-"},
			status: []string{"service", "--status", "--sys", remoteSys}})
	})
}

// stopMembers stops the service of every member (its worker hands its
// tasks back, its NATS server leaves the cluster) and prints one row per
// host.
func (c *cluster) stopMembers(ctx context.Context, stdout io.Writer) error {
	members := c.members()
	if len(members) == 0 {
		return nil
	}
	return c.eachHost(ctx, stdout, members, "standby services stopped", func(ctx context.Context, cl *deploy.Client) (string, error) {
		said, err := c.remoteStop(ctx, cl, "service", "--stop", "--sys", remoteSys)
		switch {
		case err != nil || said == "not deployed":
			return said, err
		case strings.Contains(said, "not running"):
			return "was not running", nil
		}
		return "stopped", nil
	})
}
