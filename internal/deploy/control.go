package deploy

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ossimport/ossimport/internal/service"
	"github.com/ossimport/ossimport/internal/workdir"
)

// The remote half of `console start` and `console stop`: a worker on
// every other host of conf/workers and, with natsEmbeddedCluster
// (the members: the second and third hosts each run the whole service,
// that is an embedded NATS server routed to the others into one
// JetStream cluster, a master that campaigns for the lease and a worker
// named after its line), their services. Each prints one row per host
// and returns an error when any host failed.

// joinWait bounds waiting for a worker started over SSH to send its first
// heartbeat.
const joinWait = 45 * time.Second

// MemberJoinWait bounds waiting for a member's worker to send its first
// heartbeat: its service forms the JetStream cluster with this host's
// first, which takes longer than a worker joining.
const MemberJoinWait = 2 * time.Minute

// StartWorkers starts a worker over SSH on every remote host that does
// not run one, with the NATS token on standard input, and waits until
// each has joined (sent a heartbeat).
func StartWorkers(ctx context.Context, stdout io.Writer, c *service.Cluster) error {
	hosts := c.WorkerHosts()
	if len(hosts) == 0 {
		return nil
	}
	natsURL, err := c.WorkerNATS()
	if err != nil {
		return err
	}
	var token string
	if natsURL != "" {
		data, err := os.ReadFile(workdir.Dir(c.Sys.WorkingDir).Token())
		if err != nil {
			return fmt.Errorf("read the NATS token for the workers: %w", err)
		}
		token = strings.TrimSpace(string(data))
	}
	return eachHost(ctx, stdout, c, hosts, "workers running", func(ctx context.Context, cl *Client) (string, error) {
		name := cl.Host().Host
		l := launcher{what: "worker", args: []string{"worker", "--sys", RemoteSys, "--name", name}, out: remoteWorkOut, wait: joinWait,
			status: []string{"worker", "--status", "--sys", RemoteSys, "--name", name}}
		if natsURL != "" {
			l.args = append(l.args, "--nats", natsURL, "--token-file", "-")
			l.stdin = token + "\n"
		}
		return l.launch(ctx, c, cl)
	})
}

// StopWorkers stops the worker on every remote host that runs only a
// worker (each hands its running tasks back).
func StopWorkers(ctx context.Context, stdout io.Writer, c *service.Cluster) error {
	hosts := c.WorkerHosts()
	if len(hosts) == 0 {
		return nil
	}
	return eachHost(ctx, stdout, c, hosts, "workers stopped", func(ctx context.Context, cl *Client) (string, error) {
		return remoteStop(ctx, c, cl, "worker", "--stop", "--sys", RemoteSys, "--name", cl.Host().Host)
	})
}

// StartMembers starts the service of every member that does not run one,
// with this host's NATS token on standard input, and waits until each
// one's worker has joined. It runs beside the start of this host's
// service, which cannot form the JetStream cluster alone.
func StartMembers(ctx context.Context, stdout io.Writer, c *service.Cluster, token string) error {
	members := c.Members()
	if len(members) == 0 {
		return nil
	}
	return eachHost(ctx, stdout, c, members, "NATS servers and standby services running", func(ctx context.Context, cl *Client) (string, error) {
		return launcher{what: "service", out: remoteServiceOut, wait: MemberJoinWait, stdin: token + "\n",
			args:   []string{"service", "--sys", RemoteSys, "--workers", RemoteWorkers, "--token-file", "-"},
			status: []string{"service", "--status", "--sys", RemoteSys}}.launch(ctx, c, cl)
	})
}

// StopMembers stops the service of every member (its worker hands its
// tasks back, its NATS server leaves the cluster).
func StopMembers(ctx context.Context, stdout io.Writer, c *service.Cluster) error {
	members := c.Members()
	if len(members) == 0 {
		return nil
	}
	return eachHost(ctx, stdout, c, members, "standby services stopped", func(ctx context.Context, cl *Client) (string, error) {
		said, err := remoteStop(ctx, c, cl, "service", "--stop", "--sys", RemoteSys)
		switch {
		case err != nil || said == "not deployed":
			return said, err
		case strings.Contains(said, "not running"):
			return "was not running", nil
		}
		return "stopped", nil
	})
}
