package worker_test

import (
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/storage/memory"
	"github.com/ossimport/ossimport/internal/worker"
)

// TestNewerTaskRefused: a task written in a newer major wire format is
// handed back, not failed: no result is published for it, and once it
// used up its deliveries (3 in the rig) it ends in the dead-task stream
// for the tracker to fail. A task of today's format beside it still runs.
func TestNewerTaskRefused(t *testing.T) {
	worker.SetRefuseDelay(t, 10*time.Millisecond)
	r := newRig(t, nil)
	results := r.results()
	dead, err := r.bus.DeadTasks(r.ctx)
	if err != nil {
		t.Fatal(err)
	}
	src := memory.New("src")
	r.submit("job1", src, memory.New("dst"))
	newer := []byte(`{"v":2,"id":"T-new","job":"job1","objects":{"shape":"changed"}}`)
	if err := r.bus.PublishTask(r.ctx, "job1", "T-new", newer); err != nil {
		t.Fatal(err)
	}
	r.queue("job1", "T-now", objects(t, src, "k", 2, 10))
	r.start("w1", nil)
	d := next(t, dead, "dead task")
	if d.TaskID != "T-new" || d.Deliveries != 3 {
		t.Fatalf("dead task %s after %d deliveries, want T-new after 3", d.TaskID, d.Deliveries)
	}
	if res := next(t, results, "result"); res.TaskID != "T-now" || res.Counters.Copied != 2 {
		t.Fatalf("result of %s (%+v), want T-now with 2 copied", res.TaskID, res.Counters)
	}
	select {
	case res := <-results:
		t.Fatalf("a result was published for %s: %+v", res.TaskID, res)
	default:
	}
}
