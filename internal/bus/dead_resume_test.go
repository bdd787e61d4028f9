package bus

import (
	"context"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/testenv"
)

// TestDeadTasksSurviveAConsumeFailure: when reading the dead-task stream
// fails (here its consumer is deleted under the reader), DeadTasks sets
// it up again and keeps reporting, instead of closing the channel for
// the rest of the master's term as it did.
func TestDeadTasksSurviveAConsumeFailure(t *testing.T) {
	so := SetupOptions{MaxDeliver: 1, RedeliveryPoll: 100 * time.Millisecond}
	_, b := newBus(t, so)
	dead, err := b.DeadTasks(tctx(t))
	must(t, err)
	st, err := b.state()
	must(t, err)
	// Delete it once the reader is pulling from it (a pull request is
	// waiting), so the reader sees the deletion.
	deadline := tctx(t)
	testenv.Wait(t, 30*time.Second, "the dead-task reader to pull", func() bool {
		c, err := st.dead.Consumer(deadline, trackerName)
		must(t, err)
		info, err := c.Info(deadline)
		must(t, err)
		return info.NumWaiting > 0
	})
	must(t, st.dead.DeleteConsumer(deadline, trackerName))
	must(t, b.PublishTask(tctx(t), "djob", "BAD", []byte("payload")))
	m := next(t, b, "w")
	must(t, m.Nak(0))
	for {
		select {
		case d, ok := <-dead:
			if !ok {
				t.Fatal("the dead-task channel closed after a consume failure")
			}
			if d.TaskID != "BAD" {
				t.Fatalf("dead task %+v", d)
			}
			must(t, d.Ack())
			return
		case <-deadline.Done():
			t.Fatal("no dead task reported after the consumer was deleted")
		case <-time.After(200 * time.Millisecond):
			// The server gives up on the task when a worker asks again.
			ctx, cancel := context.WithTimeout(deadline, 100*time.Millisecond)
			_, _ = b.NextTask(ctx, "w")
			cancel()
		}
	}
}
