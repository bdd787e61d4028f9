package master

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/workdir"
)

// A job's scan checkpoint lives in the OSSIMPORT_CHECKPOINTS bucket, so
// whichever service leads next resumes the scan where it stopped; every
// view keeps a copy in the job's folder for stat.

// loadCheckpoint returns a job's scan checkpoint, nil before its first.
// A view's copy is used when the bucket has none (a working directory of
// an earlier version).
func (m *Master) loadCheckpoint(ctx context.Context, name string) (*plan.Checkpoint, error) {
	data, err := m.opts.Bus.Checkpoints().Get(ctx, name)
	if errors.Is(err, bus.ErrNotFound) {
		return workdir.LoadCheckpoint(m.opts.Dir.Checkpoint(name))
	}
	if err != nil {
		return nil, err
	}
	var cp plan.Checkpoint
	if err := json.Unmarshal(data, &cp); err != nil {
		return nil, fmt.Errorf("read the scan checkpoint of job %s: %w", name, err)
	}
	return &cp, nil
}

// saveCheckpoint stores a job's scan checkpoint, then the view's copy.
func (m *Master) saveCheckpoint(ctx context.Context, name string, cp *plan.Checkpoint) error {
	data, err := json.Marshal(cp)
	if err != nil {
		return fmt.Errorf("encode checkpoint: %w", err)
	}
	if err := m.opts.Bus.Checkpoints().Put(ctx, name, data); err != nil {
		return err
	}
	if err := workdir.WriteFile(m.opts.Dir.Checkpoint(name), data); err != nil {
		return err
	}
	m.tr.KeepJobFiles(ctx, name) // what a lost NATS store is restored from
	return nil
}

// mirrorCheckpoints copies the checkpoints another service saves into
// this view, until ctx ends.
func (m *Master) mirrorCheckpoints(ctx context.Context) error {
	changes, err := m.opts.Bus.Checkpoints().Watch(ctx, ">")
	if err != nil {
		return err
	}
	for e := range changes {
		if e.Deleted || m.isLeader() {
			continue
		}
		if _, err := m.job(ctx, e.Key); err != nil {
			continue // a cleaned job
		}
		if err := workdir.WriteFile(m.opts.Dir.Checkpoint(e.Key), e.Value); err != nil {
			m.log.Warn("cannot copy a scan checkpoint into the view", "job", e.Key, "err", err)
		}
	}
	return nil
}
