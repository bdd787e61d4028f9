package tracker

import (
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/workdir"
)

func TestMergeHeartbeats(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	now := t0.Add(time.Hour)
	prev := []WorkerStatus{
		{Name: "a", Alive: true, LastHeartbeat: t0, Running: 3, BytesPerSecond: 9, Since: t0},
		{Name: "old", Alive: false, LastHeartbeat: t0.Add(-48 * time.Hour), Since: t0.Add(-49 * time.Hour)},
		{Name: "b", Alive: true, LastHeartbeat: t0, Running: 1, Since: t0},
	}
	beats := []protocol.Heartbeat{
		{Worker: "b", At: now, Running: 2, BytesPerSecond: 100, Version: "v1"},
		{Worker: "c", At: now, Running: 1},
	}
	got := MergeHeartbeats(prev, beats, now, 24*time.Hour)
	want := []WorkerStatus{
		{Name: "a", Alive: false, LastHeartbeat: t0, Since: t0},
		{Name: "b", Alive: true, LastHeartbeat: now, Running: 2, BytesPerSecond: 100, Version: "v1", Since: t0},
		{Name: "c", Alive: true, LastHeartbeat: now, Running: 1, Since: now},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d workers %+v, want %+v", len(got), got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("worker %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestWorkersFileRoundTrip(t *testing.T) {
	dir := workdir.Dir(t.TempDir())
	if ws, err := ReadWorkers(dir); err != nil || ws != nil {
		t.Fatalf("no file: got %v, %v; want nothing", ws, err)
	}
	at := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	in := []WorkerStatus{{Name: "z", Alive: true, LastHeartbeat: at}, {Name: "a", Since: at}}
	if err := WriteWorkers(dir, in); err != nil {
		t.Fatal(err)
	}
	out, err := ReadWorkers(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || out[0].Name != "a" || out[1].Name != "z" || !out[1].LastHeartbeat.Equal(at) || !out[1].Alive {
		t.Fatalf("round trip: got %+v", out)
	}
}
