package worker

import (
	"log/slog"
	"time"

	"github.com/ossimport/ossimport/internal/bus"
)

// refuseDelay is how long a task this worker cannot read waits before it
// is delivered again (to a newer worker, if one runs).
var refuseDelay = 10 * time.Second

// refuse hands back a task written in a newer wire format than this
// worker reads (protocol.ErrNewerVersion), without failing its objects:
// a newer worker may run it. Each refusal counts as a delivery, so a
// task no worker can read ends in the dead-task stream and the tracker
// fails it, naming taskMaxDeliver; this worker's log says why.
func (w *Worker) refuse(msg *bus.TaskMsg, cause error, log *slog.Logger) {
	log.Error("task refused: upgrade this worker", "err", cause)
	if err := msg.Nak(refuseDelay); err != nil {
		log.Warn("cannot hand the refused task back; it is delivered again after the ack wait", "err", err)
	}
}
