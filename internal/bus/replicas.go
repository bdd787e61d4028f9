package bus

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// ClusterReplicas is the replication factor Setup picks by default on a
// NATS cluster that can place it (natsReplicas empty).
const ClusterReplicas = 3

// AssetStreams are the JetStream streams behind every asset Setup
// creates: the three streams, the KV buckets (KV_<bucket>) and the
// object store (OBJ_<bucket>).
var AssetStreams = []string{
	TaskStream, ResultStream, DeadStream,
	"KV_" + JobsBucket, "KV_" + CheckpointsBucket, "KV_" + WorkersBucket, "KV_" + UploadsBucket,
	"OBJ_" + TaskDataBucket,
}

// Clustered reports whether the server this connection is on belongs
// to a NATS cluster (its INFO names one); a lone server, such as the
// default embedded one, does not.
func (b *Bus) Clustered() bool { return b.nc.ConnectedClusterName() != "" }

// CanPlace reports whether JetStream can place an asset of n replicas
// now: on a cluster it creates and deletes a tiny in-memory probe stream
// of n replicas, which JetStream places only when n servers with
// JetStream are up ("insufficient resources" or "no suitable peers"
// otherwise); a lone server places only 1. This asks JetStream's own
// placement, which counts exactly the servers that can hold a replica,
// where the connection's discovered URLs may list a server once per
// interface, or not at all with no_advertise.
func (b *Bus) CanPlace(ctx context.Context, n int) (bool, error) {
	if n <= 1 {
		return true, nil
	}
	if !b.Clustered() {
		return false, nil
	}
	id := nuid.Next()
	name := "OSSIMPORT_PROBE_" + id
	_, err := bounded(ctx, b.timeout, func(ctx context.Context) (jetstream.Stream, error) {
		return b.js.CreateStream(ctx, jetstream.StreamConfig{
			Name: name, Description: "ossimport replica placement probe (deleted at once)",
			Subjects: []string{"ossimport.probe." + id}, Storage: jetstream.MemoryStorage,
			Replicas: n, MaxMsgs: 1, MaxBytes: 1024,
		})
	})
	if err != nil {
		if e := apiError(err); e != nil && (e.ErrorCode == codeNoPeers || e.ErrorCode == codeInsufficient ||
			e.ErrorCode == codeReplicasNotSupported) {
			return false, nil
		}
		return false, fmt.Errorf("bus: probe replica placement: %w", err)
	}
	if _, err := bounded(ctx, b.timeout, func(ctx context.Context) (struct{}, error) { return struct{}{}, b.js.DeleteStream(ctx, name) }); err != nil {
		return true, fmt.Errorf("bus: delete the placement probe stream %s: %w", name, err)
	}
	return true, nil
}

const (
	codeInsufficient         = 10023 // insufficient resources
	codeReplicasNotSupported = 10074 // replicas > 1 not supported in non-clustered mode
)

// DefaultReplicas is the replication factor for natsReplicas left
// empty: ClusterReplicas when the connection's NATS is a cluster that
// can place that many replicas (see CanPlace), else 1. A cluster whose
// servers the connection knows (natsUrl and the servers advertised) to
// be ClusterReplicas or more but that cannot place them yet (just
// started, its servers not yet reporting their resources; or a server
// down) gives ErrPlacement, which Setup's Retry waits out.
func (b *Bus) DefaultReplicas(ctx context.Context) (int, error) {
	ok, err := b.CanPlace(ctx, ClusterReplicas)
	if err != nil {
		return 0, err
	}
	if ok {
		return ClusterReplicas, nil
	}
	if n := b.KnownServers(); n >= ClusterReplicas {
		return 0, fmt.Errorf("%w: the connection knows %d NATS servers, but JetStream cannot place %d replicas now", ErrPlacement, n, ClusterReplicas)
	}
	return 1, nil
}

// ErrPlacement is a cluster that cannot place the replicas asked for
// now; it is Transient.
var ErrPlacement = errors.New("bus: not enough NATS servers with JetStream are up")

// KnownServers counts the distinct servers (host:port) the connection
// knows: the URLs it was given and the ones the cluster advertised. It
// is a hint (a server advertising several addresses counts more than
// once); CanPlace is the truth.
func (b *Bus) KnownServers() int {
	seen := map[string]bool{}
	for _, s := range b.nc.Servers() {
		if u, err := url.Parse(s); err == nil {
			seen[u.Host] = true
		}
	}
	return len(seen)
}

// AssetReplication is the replication of one asset's stream.
type AssetReplication struct {
	// Stream is the stream's name (see AssetStreams).
	Stream string
	// Replicas is the configured replication factor.
	Replicas int
	// Current counts the replicas that are up to date, the leader
	// included (1 on a lone server).
	Current int
	// Leader names the server leading the stream ("" on a lone server).
	Leader string
}

// Replication reports every existing asset's replication, in
// AssetStreams order; assets not created yet are left out.
func (b *Bus) Replication(ctx context.Context) ([]AssetReplication, error) {
	var out []AssetReplication
	for _, name := range AssetStreams {
		s, err := b.existing(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("bus: stream %s: %w", name, err)
		}
		if s == nil {
			continue
		}
		info := s.CachedInfo()
		r := AssetReplication{Stream: name, Replicas: info.Config.Replicas, Current: 1}
		if c := info.Cluster; c != nil {
			r.Leader = c.Leader
			for _, p := range c.Replicas {
				if p.Current && !p.Offline {
					r.Current++
				}
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// replicaPlan decides each asset's replicas in Setup: SetupOptions.Replicas
// when set, else DefaultReplicas (asked once, and only when an asset is
// created or updated), never below what an existing asset already has,
// so that a master restarted while a node is down does not shrink
// replicated state.
type replicaPlan struct {
	b          *Bus
	configured int
	once       sync.Once
	auto       int
	err        error
}

func (p *replicaPlan) forAsset(ctx context.Context, existing jetstream.Stream) (int, error) {
	if p.configured > 0 {
		return p.configured, nil
	}
	if existing != nil && existing.CachedInfo().Config.Replicas > 1 {
		return existing.CachedInfo().Config.Replicas, nil // replicated already: no probe
	}
	p.once.Do(func() { p.auto, p.err = p.b.DefaultReplicas(ctx) })
	if p.err != nil {
		return 0, p.err
	}
	if existing != nil {
		return max(p.auto, existing.CachedInfo().Config.Replicas), nil
	}
	return p.auto, nil
}
