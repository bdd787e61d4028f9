package master

import (
	"path/filepath"
	"testing"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// TestTakeOverQueuesLostRetries: a retry filed in the view whose queue
// message was lost (the master died between the two) is queued again by
// the next master; a planned task pending in the view is not (the
// resumed scan queues it), so a restart queues nothing twice.
func TestTakeOverQueuesLostRetries(t *testing.T) {
	work := t.TempDir()
	srv, err := bus.StartServer(bus.ServerOptions{Dir: filepath.Join(work, "nats"), TokenFile: filepath.Join(work, "nats.token"), Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	b, err := bus.Connect(t.Context(), bus.ConnOptions{Server: srv, Name: "master"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	if err := b.Setup(t.Context(), bus.SetupOptions{}); err != nil {
		t.Fatal(err)
	}
	dir := workdir.Dir(work)
	failTask(t, dir, "lost_job", "RETRIED", transfer.Succeed, transfer.UploadFailed)
	if _, err := tracker.ApplyRequeue(dir, "lost_job", "RETRIED", 1); err != nil {
		t.Fatal(err)
	}
	if _, _, err := tracker.FilePlanned(dir, plan.Task{ID: "PLANNED", Job: "lost_job", Objects: []transfer.Object{{Key: "p", Size: 1}}}); err != nil {
		t.Fatal(err)
	}
	m, err := New(Options{Dir: dir, Bus: b, Settings: SettingsFrom(config.DefaultSys())})
	if err != nil {
		t.Fatal(err)
	}
	m.takeOver(t.Context())
	if n, err := b.Pending(t.Context(), "lost_job"); err != nil || n != 1 {
		t.Fatalf("%d tasks queued (%v), want the lost retry only", n, err)
	}
	msg, err := b.NextTask(t.Context(), "w1")
	if err != nil || msg.TaskID != "RETRIED" {
		t.Fatalf("queued task %v (%v), want RETRIED", msg, err)
	}
}
