package worker_test

import (
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/worker"
)

// TestSettingsFromReadsTheWorkersKeys: a worker's settings are its
// sys.properties keys in their units (KB/s as bytes per second), with
// the intervals' defaults when the keys leave them zero.
func TestSettingsFromReadsTheWorkersKeys(t *testing.T) {
	sys := config.DefaultSys()
	sys.WorkerTaskThreadNum, sys.WorkerMaxThroughputKB, sys.WorkerMaxRequestRate = 6, 100, 50
	sys.TaskAckWait, sys.WorkerProgressInterval, sys.WorkerHeartbeatInterval = time.Minute, 0, 0
	s := worker.SettingsFrom(sys)
	want := worker.Settings{Threads: 6, BytesPerSecond: 100 * 1024, RequestsPerSecond: 50, AckWait: time.Minute,
		ProgressInterval: 2 * time.Second, HeartbeatInterval: 5 * time.Second, ResolveWith: sys}
	if s.Threads != want.Threads || s.BytesPerSecond != want.BytesPerSecond || s.RequestsPerSecond != want.RequestsPerSecond ||
		s.AckWait != want.AckWait || s.ProgressInterval != want.ProgressInterval || s.HeartbeatInterval != want.HeartbeatInterval ||
		s.ResolveWith != sys {
		t.Fatalf("settings %+v, want %+v", s, want)
	}
	if err := (&worker.Settings{Threads: 1}).Validate(); err == nil {
		t.Fatal("settings not read from the sys settings accepted")
	}
}
