package worker

import (
	"log/slog"
	"time"

	"github.com/ossimport/ossimport/internal/transfer"
)

// logRetry logs each retry of an object after a temporary error, at debug
// level (transfer.Options.OnRetry).
func logRetry(log *slog.Logger) func(obj transfer.Object, attempt int, err error, wait time.Duration) {
	return func(obj transfer.Object, attempt int, err error, wait time.Duration) {
		log.Debug("temporary error, retrying", "key", obj.Key, "attempt", attempt, "wait", wait.Round(time.Millisecond), "err", err)
	}
}
