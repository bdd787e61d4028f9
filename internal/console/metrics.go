package console

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/ossimport/ossimport/internal/metrics"
)

// serveMetrics serves mx (run --metrics-listen, the worker verb's
// workerHttpListen) on addr until the returned function is
// called (nothing when mx is nil or addr empty). A listen error is a
// warning: metrics are not worth failing the job for.
func serveMetrics(ctx context.Context, stderr io.Writer, log *slog.Logger, mx *metrics.Metrics, addr string) func() {
	if mx == nil || addr == "" {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := mx.Serve(ctx, addr); err != nil {
			log.Warn("cannot serve /metrics", "listen", addr, "err", err)
			fmt.Fprintf(stderr, "warning: cannot serve /metrics on %s: %v\n", addr, err)
		}
	})
	return func() {
		cancel()
		wg.Wait()
	}
}
