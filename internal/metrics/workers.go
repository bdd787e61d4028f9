package metrics

import (
	"context"
	"encoding/json"
	"time"

	"github.com/ossimport/ossimport/internal/protocol"
)

// WorkerStore is where workers' heartbeats are kept: the bus's workers KV
// (bus.Bus.Workers()), whose keys expire with the heartbeats.
type WorkerStore interface {
	Keys(ctx context.Context) ([]string, error)
	Get(ctx context.Context, key string) ([]byte, error)
}

// WatchWorkers sets ossimport_worker_up and
// ossimport_worker_bytes_per_second from the heartbeats in store every
// interval until ctx ends. A worker whose heartbeat expired stays listed
// with up 0.
func (m *Metrics) WatchWorkers(ctx context.Context, store WorkerStore, every time.Duration) {
	if m == nil {
		return
	}
	seen := map[string]bool{}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if names, err := store.Keys(ctx); err == nil {
			alive := map[string]bool{}
			for _, name := range names {
				data, err := store.Get(ctx, name)
				if err != nil {
					continue
				}
				var hb protocol.Heartbeat
				_ = json.Unmarshal(data, &hb)
				alive[name], seen[name] = true, true
				m.Worker(name, true, hb.BytesPerSecond)
				m.WorkerTasks(name, hb.Running)
			}
			for name := range seen {
				if !alive[name] {
					m.Worker(name, false, 0)
					m.WorkerTasks(name, 0)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
