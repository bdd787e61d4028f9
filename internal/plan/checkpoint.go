package plan

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Checkpoint is the resumable state of one scan. It only advances when a
// task has been emitted, so resuming from it never loses or repeats an
// object.
type Checkpoint struct {
	Job   string `json:"job"`
	Round int    `json:"round"`
	// Started is the scan's start in Unix milliseconds; it is part of
	// every task id.
	Started int64                  `json:"started"`
	Shards  map[string]*ShardState `json:"shards"`
	Done    bool                   `json:"done"`
	Stats   Stats                  `json:"stats"`
}

// ShardState is how far the listing of one shard (a prefix listed by one
// thread) has been planned.
type ShardState struct {
	Depth int  `json:"depth"`
	Flat  bool `json:"flat"` // listed without a delimiter, down the whole tree
	// Token is the listing token of the page being planned ("" for the
	// first page) and Skip the objects of that page already in emitted
	// tasks.
	Token string `json:"token,omitempty"`
	Skip  int    `json:"skip,omitempty"`
	Seq   int    `json:"seq"` // tasks emitted from this shard
	Done  bool   `json:"done,omitempty"`
}

// clone deep-copies the checkpoint so it can be saved while planning goes
// on.
func (cp *Checkpoint) clone() *Checkpoint {
	c := *cp
	c.Shards = make(map[string]*ShardState, len(cp.Shards))
	for k, v := range cp.Shards {
		s := *v
		c.Shards[k] = &s
	}
	return &c
}

// WriteFile saves the checkpoint atomically (temp file, fsync, rename).
func (cp *Checkpoint) WriteFile(path string) error {
	data, err := json.Marshal(cp)
	if err != nil {
		return fmt.Errorf("encode checkpoint: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".cpt-*")
	if err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("save checkpoint %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save checkpoint %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save checkpoint %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save checkpoint %s: %w", path, err)
	}
	return nil
}

// ReadCheckpoint loads a checkpoint saved by WriteFile; a missing file
// yields (nil, nil).
func ReadCheckpoint(path string) (*Checkpoint, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	var cp Checkpoint
	if err := json.Unmarshal(data, &cp); err != nil {
		return nil, fmt.Errorf("read checkpoint %s: %w (delete it to rescan from the start)", path, err)
	}
	return &cp, nil
}
