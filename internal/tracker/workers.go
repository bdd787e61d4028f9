package tracker

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"time"

	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/workdir"
)

// WorkerStatus is what `stat` and the dashboard show of one worker. The
// tracker keeps the list in <workingDir>/master/workers.json from the
// workers' heartbeats, so it can be read without the service.
type WorkerStatus struct {
	Name           string    `json:"name"`
	Alive          bool      `json:"alive"`
	LastHeartbeat  time.Time `json:"lastHeartbeat"`
	Running        int       `json:"runningTasks"`
	BytesPerSecond float64   `json:"bytesPerSecond"`
	Version        string    `json:"version,omitempty"`
	// Since is when the master first saw the worker.
	Since time.Time `json:"since"`
	// Stopped says the master recording the list stopped gracefully
	// (the service stopped, or `run` ended): not alive, but not lost.
	Stopped bool `json:"stopped,omitempty"`
}

// WorkersFile is where the tracker keeps the worker list.
func WorkersFile(dir workdir.Dir) string {
	return dir.Master(workdir.WorkersFile)
}

// ReadWorkers returns the workers the master last recorded, sorted by
// name; none when it never recorded any.
func ReadWorkers(dir workdir.Dir) ([]WorkerStatus, error) {
	data, err := os.ReadFile(WorkersFile(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the worker list: %w", err)
	}
	var ws []WorkerStatus
	if err := json.Unmarshal(data, &ws); err != nil {
		return nil, fmt.Errorf("read the worker list %s: %w", WorkersFile(dir), err)
	}
	return ws, nil
}

// WriteWorkers replaces the recorded worker list (atomically).
func WriteWorkers(dir workdir.Dir, ws []WorkerStatus) error {
	sort.Slice(ws, func(i, j int) bool { return ws[i].Name < ws[j].Name })
	data, err := json.MarshalIndent(ws, "", "  ")
	if err != nil {
		return err
	}
	if err := workdir.WriteFile(WorkersFile(dir), append(data, '\n')); err != nil {
		return fmt.Errorf("record the worker list: %w", err)
	}
	return nil
}

// MergeHeartbeats updates a recorded worker list with the heartbeats
// alive now: listed workers are alive with the heartbeat's figures, the
// others stay in the list, not alive, with their last heartbeat. Workers
// not alive for longer than forget are dropped.
func MergeHeartbeats(prev []WorkerStatus, beats []protocol.Heartbeat, now time.Time, forget time.Duration) []WorkerStatus {
	byName := map[string]WorkerStatus{}
	for _, w := range prev {
		w.Alive, w.Running, w.BytesPerSecond, w.Stopped = false, 0, 0, false
		byName[w.Name] = w
	}
	for _, hb := range beats {
		w, ok := byName[hb.Worker]
		if !ok {
			w = WorkerStatus{Name: hb.Worker, Since: now}
		}
		w.Alive = true
		w.LastHeartbeat = hb.At
		w.Running = hb.Running
		w.BytesPerSecond = hb.BytesPerSecond
		w.Version = hb.Version
		byName[hb.Worker] = w
	}
	out := make([]WorkerStatus, 0, len(byName))
	for _, w := range byName {
		if !w.Alive && forget > 0 && now.Sub(w.LastHeartbeat) > forget {
			continue
		}
		out = append(out, w)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
