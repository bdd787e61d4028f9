package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/workdir"
)

// NATS high availability of the service: replication advice for check
// and start, the retry that rides out leader elections, and the embedded
// cluster's server options derived from conf/workers.

// NATSRetry is the service's and the workers' patience with a NATS
// cluster that restarts or elects leaders: each wait is logged, and
// written to out when given, saying what is awaited.
func NATSRetry(logger *slog.Logger, out io.Writer) bus.Retry {
	return bus.Retry{Patience: bus.DefaultPatience, OnWait: func(w bus.Wait) {
		if logger != nil {
			logger.Warn("waiting for NATS", "op", w.Op, "attempt", w.Attempt, "err", w.Err,
				"retry_in", w.Next.Round(time.Millisecond), "gives_up_in", w.Left.Round(time.Second))
		}
		if out != nil {
			fmt.Fprintf(out, "%s %s\n", time.Now().Format(time.DateTime), w)
		}
	}}
}

// replicasError refuses a natsReplicas the NATS in use cannot hold: more
// than 1 on a single server, or more than the cluster's servers that are
// up (unless every asset already has them: then a node is down, which
// replicated state rides out). It names the key and the fix.
func replicasError(ctx context.Context, b *bus.Bus, s *config.Sys) error {
	n := s.NATSReplicas
	if n <= 1 {
		return nil
	}
	if !b.Clustered() {
		return fmt.Errorf("natsReplicas=%d, but the NATS in use is a single server, not a cluster: set natsReplicas=0 (automatic) or 1, or point natsUrl at a cluster (or set natsEmbeddedCluster=true)", n)
	}
	ok, err := b.CanPlace(ctx, n)
	if err != nil || ok {
		return err
	}
	reps, err := b.Replication(ctx)
	if err != nil {
		return err
	}
	if len(reps) == len(bus.AssetStreams) && !slices.ContainsFunc(reps, func(r bus.AssetReplication) bool { return r.Replicas < n }) {
		return nil // all there: a server is down, the state rides it out
	}
	return fmt.Errorf("natsReplicas=%d is more than the NATS cluster's servers with JetStream that are up: set natsReplicas=0 (automatic) or at most the number of servers, or start the missing servers", n)
}

// replicationWarnings says when state is, or would be, unreplicated on a
// NATS cluster, and when replicas are behind (a server down). created
// says whether the assets exist yet (after the service's Setup); before,
// the replicas a Setup would choose are judged.
func replicationWarnings(ctx context.Context, b *bus.Bus, s *config.Sys, created bool) ([]string, error) {
	if !b.Clustered() {
		return nil, nil
	}
	var warns []string
	if !created {
		n := s.NATSReplicas
		if n == 0 {
			var err error
			if n, err = b.DefaultReplicas(ctx); err != nil {
				return nil, err
			}
		}
		if n == 1 {
			warns = append(warns, "state would be unreplicated: the NATS in use is a cluster, but streams and buckets would get 1 replica (natsReplicas=0 picks 3 only when 3 servers with JetStream are up; set natsReplicas=2 on a cluster of two): losing that server stops the migration")
		}
		return warns, nil
	}
	reps, err := b.Replication(ctx)
	if err != nil {
		return nil, err
	}
	var single, behind []string
	for _, r := range reps {
		if r.Replicas == 1 {
			single = append(single, r.Stream)
		} else if r.Current < r.Replicas {
			behind = append(behind, fmt.Sprintf("%s (%d of %d)", r.Stream, r.Current, r.Replicas))
		}
	}
	if len(single) > 0 {
		warns = append(warns, fmt.Sprintf("state is unreplicated on a NATS cluster: %s %s 1 replica; set natsReplicas=0 (automatic) or 3 and restart the service, which scales them",
			strings.Join(single, ", "), map[bool]string{true: "has", false: "have"}[len(single) == 1]))
	}
	if len(behind) > 0 {
		warns = append(warns, "replicas not current (a NATS server is down or catching up): "+strings.Join(behind, ", "))
	}
	return warns, nil
}

// CheckReplication is check's look at the NATS of natsUrl: it
// connects (briefly) and reports, as diagnostics of natsReplicas, what
// replicasError and replicationWarnings say. Without natsUrl nothing is
// running to ask; the static rules of config.Sys.Validate apply.
func CheckReplication(ctx context.Context, s *config.Sys) config.Diagnostics {
	if len(s.NATSURLs) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	warn := func(format string, a ...any) config.Diagnostic {
		return config.Diagnostic{File: s.File(), Key: "natsReplicas", Severity: config.Warning, Msg: fmt.Sprintf(format, a...)}
	}
	o := ExternalConn(s, "ossimport-check")
	o.Timeout = 5 * time.Second
	b, err := bus.Connect(ctx, o)
	if err != nil {
		return config.Diagnostics{warn("cannot check the replication of NATS state: %v", err)}
	}
	defer b.Close()
	var diags config.Diagnostics
	if err := replicasError(ctx, b, s); err != nil {
		diags = append(diags, config.Diagnostic{File: s.File(), Key: "natsReplicas", Severity: config.Error, Msg: err.Error()})
	}
	created := true
	if reps, err := b.Replication(ctx); err == nil && len(reps) < len(bus.AssetStreams) {
		created = false
	}
	warns, err := replicationWarnings(ctx, b, s, created)
	if err != nil {
		diags = append(diags, warn("cannot check the replication of NATS state: %v", err))
	}
	for _, w := range warns {
		diags = append(diags, warn("%s", w))
	}
	return diags
}

// PrintReplicationWarnings is start's report on the running service's
// NATS state (natsUrl or natsEmbeddedCluster: the single embedded server
// has nothing to replicate to).
func PrintReplicationWarnings(ctx context.Context, w io.Writer, s *config.Sys) {
	o, ok := SharedConn(s, workdir.Dir(s.WorkingDir), "ossimport-console")
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	b, err := bus.Connect(ctx, o)
	if err != nil {
		return // start already said whether the service answers
	}
	defer b.Close()
	warns, _ := replicationWarnings(ctx, b, s, true)
	for _, m := range warns {
		fmt.Fprintf(w, "warning: %s\n", m)
	}
}

// EmbeddedClusterHosts are the hosts of conf/workers that run an
// embedded NATS server with natsEmbeddedCluster: the first
// config.EmbeddedClusterSize.
func EmbeddedClusterHosts(w *config.Workers) ([]config.WorkerHost, error) {
	if w == nil || len(w.Hosts) < config.EmbeddedClusterSize {
		n := 0
		if w != nil {
			n = len(w.Hosts)
		}
		return nil, fmt.Errorf("natsEmbeddedCluster=true needs at least %d hosts in conf/workers (it lists %d): the first %d each run an embedded NATS server",
			config.EmbeddedClusterSize, n, config.EmbeddedClusterSize)
	}
	return w.Hosts[:config.EmbeddedClusterSize], nil
}

// embeddedClusterOptions derives the cluster settings of the embedded
// NATS server on the host of conf/workers at index self (one of the
// first three): its name is its line's host, it listens for routes on
// natsClusterPort and routes to the other two. The caller adds them to
// that host's bus.ServerOptions, whose TokenFile must hold the same
// token on the three hosts.
func embeddedClusterOptions(s *config.Sys, w *config.Workers, self int) (*bus.ClusterOptions, error) {
	hosts, err := EmbeddedClusterHosts(w)
	if err != nil {
		return nil, err
	}
	if self < 0 || self >= len(hosts) {
		return nil, errors.New("this host is not one of the first three of conf/workers, so it runs no embedded NATS server")
	}
	port := strconv.Itoa(s.NATSClusterPort)
	c := &bus.ClusterOptions{ServerName: hosts[self].Host, Name: bus.DefaultClusterName, Port: s.NATSClusterPort}
	for i, h := range hosts {
		if i != self {
			c.Routes = append(c.Routes, net.JoinHostPort(h.Host, port))
		}
	}
	return c, nil
}

// EmbeddedClusterURLs are the client URLs of the embedded cluster's
// servers, which workers are handed (all of them, so that they reach
// whichever is up).
func EmbeddedClusterURLs(s *config.Sys, w *config.Workers) ([]string, error) {
	hosts, err := EmbeddedClusterHosts(w)
	if err != nil {
		return nil, err
	}
	scheme := "nats"
	if s.NATSTLSCert != "" || (s.NATSAutoTLS && len(s.NATSURLs) == 0) { // natsAutoTls: the embedded cluster spans hosts
		scheme = "tls"
	}
	var urls []string
	for _, h := range hosts {
		urls = append(urls, scheme+"://"+net.JoinHostPort(h.Host, strconv.Itoa(s.NATSPort)))
	}
	return urls, nil
}
