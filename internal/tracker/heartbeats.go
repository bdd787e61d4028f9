package tracker

import (
	"context"
	"time"

	"github.com/ossimport/ossimport/internal/protocol"
)

// workersEvery is how often the tracker records the workers' heartbeats
// in the working directory (master/workers.json).
const workersEvery = 5 * time.Second

// forgetWorker is how long a worker that stopped heartbeating stays
// listed (not alive) in stat.
const forgetWorker = 24 * time.Hour

// recordWorkers keeps master/workers.json and the worker metrics
// current from the workers KV, whose entries expire with the heartbeats,
// so stat, the dashboard and the console's start show every worker,
// alive or not, without a NATS connection of their own.
func (t *Tracker) recordWorkers(ctx context.Context) error {
	tk := time.NewTicker(workersEvery)
	defer tk.Stop()
	for {
		if beats, err := t.heartbeats(ctx); err != nil {
			if ctx.Err() == nil {
				t.svc.Warn("cannot read worker heartbeats", "err", err)
			}
		} else {
			prev, err := ReadWorkers(t.opts.Dir)
			if err != nil {
				t.svc.Warn("cannot read the recorded workers; starting a new list", "err", err)
			}
			now := time.Now()
			next := MergeHeartbeats(prev, beats, now, forgetWorker)
			for _, w := range next {
				if w.Alive && w.Since.Equal(now) {
					t.svc.Info("worker joined", "worker", w.Name, "version", w.Version)
				}
			}
			for _, w := range prev {
				if w.Alive && !alive(next, w.Name) {
					t.svc.Warn("worker heartbeat lost", "worker", w.Name, "last", w.LastHeartbeat)
				}
			}
			t.opts.Metrics.Workers(next)
			if err := WriteWorkers(t.opts.Dir, next); err != nil {
				t.svc.Warn("cannot record workers", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			t.workersStopped()
			return nil
		case <-tk.C:
		}
	}
}

// workersStopped records, as the service stops, that it sees no worker
// alive any more: stat then never shows a worker of a stopped service
// or a finished `run` as alive.
func (t *Tracker) workersStopped() {
	ws, err := ReadWorkers(t.opts.Dir)
	if err != nil || len(ws) == 0 {
		return
	}
	for i := range ws {
		ws[i].Alive, ws[i].Running, ws[i].BytesPerSecond, ws[i].Stopped = false, 0, 0, ws[i].Alive
	}
	if err := WriteWorkers(t.opts.Dir, ws); err != nil {
		t.svc.Warn("cannot record workers", "err", err)
	}
}

func alive(ws []WorkerStatus, name string) bool {
	for _, w := range ws {
		if w.Name == name {
			return w.Alive
		}
	}
	return false
}

// heartbeats reads the live heartbeats from the workers KV.
func (t *Tracker) heartbeats(ctx context.Context) ([]protocol.Heartbeat, error) {
	kv := t.opts.Bus.Workers()
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
			continue // not one this tracker reads (ErrNewerVersion): as if lost
		}
		if hb.Worker == "" {
			hb.Worker = name
		}
		out = append(out, hb)
	}
	return out, nil
}
