package console

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ossimport/ossimport/internal/progress"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/transfer"
)

// watchStat shows the view every interval until ctx ends or a signal
// (Ctrl-C): redrawn in place when out is a terminal (text only), one
// block after the other otherwise. With untilDone it returns once every
// job shown has ended: nil when all succeeded, an exit status of 1
// otherwise, 130 when interrupted first.
func watchStat(ctx context.Context, out io.Writer, v statView, interval time.Duration, untilDone bool) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	var screen *progress.Screen
	if !v.asJSON && progress.IsTerminal(out) {
		screen = progress.NewScreen(out)
	}
	for {
		jobs, workers, err := v.read()
		if err != nil {
			return &ExitError{Code: 1, Err: err}
		}
		now := time.Now()
		var buf bytes.Buffer
		if screen != nil {
			title := "ossimport console stat"
			if len(v.names) > 0 {
				title += " " + strings.Join(v.names, " ")
			}
			fmt.Fprintf(&buf, "Every %s: %s    %s\n\n", interval, title, now.Format(time.DateTime))
		}
		if err := v.render(&buf, jobs, workers, now); err != nil {
			return &ExitError{Code: 1, Err: err}
		}
		if screen != nil {
			screen.Height = progress.TerminalHeight(out)
			err = screen.Draw(buf.String())
		} else {
			_, err = out.Write(buf.Bytes())
		}
		if err != nil {
			return &ExitError{Code: 1, Err: fmt.Errorf("write the state: %w", err)}
		}
		if untilDone && len(jobs) > 0 && allEnded(jobs) {
			return endStatus(jobs)
		}
		if err := masterGone(jobs, now); untilDone && err != nil {
			return &ExitError{Code: 1, Err: err}
		}
		if err := transfer.Sleep(ctx, interval); err != nil {
			if untilDone {
				return &ExitError{Code: 130}
			}
			return nil
		}
	}
}

// allEnded reports whether every job is Succeed, Failed or Abort. An
// incremental job never ends unless aborted.
func allEnded(jobs []tracker.JobStatus) bool {
	for _, st := range jobs {
		if !st.Ended() {
			return false
		}
	}
	return true
}

// endStatus is nil when every job succeeded, else exit status 1 naming
// the jobs that did not.
func endStatus(jobs []tracker.JobStatus) error {
	var bad []string
	for _, st := range jobs {
		if st.State != tracker.Succeed {
			bad = append(bad, st.Name+" "+st.State)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return &ExitError{Code: 1, Err: fmt.Errorf("job ended without success: %s", strings.Join(bad, ", "))}
}
