package worker

import (
	"cmp"
	"errors"
	"time"

	"github.com/ossimport/ossimport/internal/config"
)

// Settings are the sys.properties values a worker uses, read from the
// configuration in one place (SettingsFrom); the rest of the package
// never reads config.Sys.
type Settings struct {
	// Threads is workerTaskThreadNum: objects copied at once across all
	// the worker's tasks.
	Threads int
	// Adaptive is workerTaskThreadAdaptive: the worker starts at Threads
	// objects at once and takes more while that pays (tune.go).
	Adaptive bool
	// BytesPerSecond is workerMaxThroughput(KB/s) in bytes per second (0:
	// uncapped); Schedule (workerMaxThroughputSchedule) overrides it by
	// time of day.
	BytesPerSecond int64
	Schedule       config.Schedule
	// RequestsPerSecond is workerMaxRequestRate (0: uncapped).
	RequestsPerSecond float64
	// AckWait is taskAckWait: how long the queue waits for a running
	// task's keep-alive before it delivers the task again.
	AckWait time.Duration
	// ProgressInterval is workerProgressInterval: how often a running
	// task's progress is published.
	ProgressInterval time.Duration
	// HeartbeatInterval is workerHeartbeatInterval: how often the
	// worker's liveness record is refreshed; the bus's
	// SetupOptions.HeartbeatInterval must be the same.
	HeartbeatInterval time.Duration
	// ResolveWith is the process's sys settings, handed unread to
	// Options.Resolve, which takes a job's transfer settings from it to
	// build the job's spec.
	ResolveWith *config.Sys
}

// Defaults of the intervals when the sys settings leave them zero.
const (
	defaultProgressInterval  = 2 * time.Second
	defaultHeartbeatInterval = 5 * time.Second
)

// SettingsFrom reads a worker's settings from the sys settings s.
func SettingsFrom(s *config.Sys) Settings {
	return Settings{
		Threads:           s.WorkerTaskThreadNum,
		Adaptive:          s.WorkerTaskThreadAdaptive,
		BytesPerSecond:    s.MaxThroughput(),
		Schedule:          s.WorkerMaxThroughputSchedule,
		RequestsPerSecond: float64(s.WorkerMaxRequestRate),
		AckWait:           s.TaskAckWait,
		ProgressInterval:  cmp.Or(s.WorkerProgressInterval, defaultProgressInterval),
		HeartbeatInterval: cmp.Or(s.WorkerHeartbeatInterval, defaultHeartbeatInterval),
		ResolveWith:       s,
	}
}

// Validate checks the settings and fills in the intervals' defaults.
func (s *Settings) Validate() error {
	if s.ResolveWith == nil {
		return errors.New("worker: settings not read from sys settings (SettingsFrom)")
	}
	s.ProgressInterval = cmp.Or(s.ProgressInterval, defaultProgressInterval)
	s.HeartbeatInterval = cmp.Or(s.HeartbeatInterval, defaultHeartbeatInterval)
	return nil
}
