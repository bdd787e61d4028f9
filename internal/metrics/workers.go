package metrics

import "github.com/ossimport/ossimport/internal/tracker"

// Workers sets ossimport_worker_up, ossimport_worker_bytes_per_second
// and ossimport_worker_running_tasks from the master's worker list
// (tracker.MergeHeartbeats): a worker whose heartbeat expired stays
// listed with up 0.
func (m *Metrics) Workers(ws []tracker.WorkerStatus) {
	if m == nil {
		return
	}
	for _, w := range ws {
		m.Worker(w.Name, w.Alive, w.BytesPerSecond)
		m.WorkerTasks(w.Name, w.Running)
	}
}
