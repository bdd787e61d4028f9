package master

import (
	"context"
	"time"

	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/tracker"
)

// workersEvery is how often the master records the workers' heartbeats
// in the working directory (master/workers.json).
const workersEvery = 5 * time.Second

// forgetWorker is how long a worker that stopped heartbeating stays
// listed (not alive) in stat.
const forgetWorker = 24 * time.Hour

// recordWorkers keeps master/workers.json and the worker metrics
// current from the workers KV, whose entries expire with the heartbeats,
// so stat, the dashboard and the console's start show every worker,
// alive or not, without a NATS connection of their own.
func (m *Master) recordWorkers(ctx context.Context) error {
	t := time.NewTicker(workersEvery)
	defer t.Stop()
	for {
		if beats, err := m.heartbeats(ctx); err != nil {
			if ctx.Err() == nil {
				m.log.Warn("cannot read worker heartbeats", "err", err)
			}
		} else {
			prev, err := tracker.ReadWorkers(m.opts.Dir)
			if err != nil {
				m.log.Warn("cannot read the recorded workers; starting a new list", "err", err)
			}
			now := time.Now()
			next := tracker.MergeHeartbeats(prev, beats, now, forgetWorker)
			for _, w := range next {
				if w.Alive && w.Since.Equal(now) {
					m.log.Info("worker joined", "worker", w.Name, "version", w.Version)
				}
			}
			for _, w := range prev {
				if w.Alive && !alive(next, w.Name) {
					m.log.Warn("worker heartbeat lost", "worker", w.Name, "last", w.LastHeartbeat)
				}
			}
			m.opts.Metrics.Workers(next)
			if err := tracker.WriteWorkers(m.opts.Dir, next); err != nil {
				m.log.Warn("cannot record workers", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			m.workersStopped()
			return nil
		case <-t.C:
		}
	}
}

// workersStopped records, as the master stops, that it sees no worker
// alive any more: stat then never shows a worker of a stopped service
// or a finished `run` as alive.
func (m *Master) workersStopped() {
	ws, err := tracker.ReadWorkers(m.opts.Dir)
	if err != nil || len(ws) == 0 {
		return
	}
	for i := range ws {
		ws[i].Alive, ws[i].Running, ws[i].BytesPerSecond, ws[i].Stopped = false, 0, 0, ws[i].Alive
	}
	if err := tracker.WriteWorkers(m.opts.Dir, ws); err != nil {
		m.log.Warn("cannot record workers", "err", err)
	}
}

func alive(ws []tracker.WorkerStatus, name string) bool {
	for _, w := range ws {
		if w.Name == name {
			return w.Alive
		}
	}
	return false
}

// heartbeats reads the live heartbeats from the workers KV.
func (m *Master) heartbeats(ctx context.Context) ([]protocol.Heartbeat, error) {
	kv := m.opts.Bus.Workers()
	names, err := kv.Keys(ctx)
	if err != nil {
		return nil, err
	}
	var out []protocol.Heartbeat
	for _, name := range names {
		data, err := kv.Get(ctx, name)
		if err != nil {
			continue // expired meanwhile
		}
		hb, err := protocol.DecodeHeartbeat(data)
		if err != nil {
			continue // not one this master reads (ErrNewerVersion): as if lost
		}
		if hb.Worker == "" {
			hb.Worker = name
		}
		out = append(out, hb)
	}
	return out, nil
}
