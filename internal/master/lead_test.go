package master

import (
	"fmt"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/bus/bustest"
	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/testenv"
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
	srv := bustest.Server(t, work)
	b := bustest.Connect(t, srv, "master", bus.SetupOptions{})
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
	// The consumer's count follows the publish a moment later.
	var n uint64
	testenv.Wait(t, 10*time.Second, "the lost retry queued, and only it", func() bool {
		n, err = b.Pending(t.Context(), "lost_job")
		return err == nil && n == 1
	}, func() string { return fmt.Sprintf("%d tasks queued (%v)", n, err) })
	msg, err := b.NextTask(t.Context(), "w1")
	if err != nil || msg.TaskID != "RETRIED" {
		t.Fatalf("queued task %v (%v), want RETRIED", msg, err)
	}
}
