package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/ossimport/ossimport/internal/job"
	"github.com/ossimport/ossimport/internal/metrics"
	"github.com/ossimport/ossimport/internal/service"
	"github.com/ossimport/ossimport/internal/summary"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/workdir"
)

func newRunCommand() *cobra.Command {
	var sysPath string
	var dryRun bool
	var every time.Duration
	var metricsListen string
	cmd := &cobra.Command{
		Use:   "run [job.cfg]",
		Short: "run a job to completion in the foreground (plan, copy, verify), without the service",
		Long: `run plans the job, copies and verifies every object, writes the task records
under the working directory and prints a summary. Run it again after an
interruption or a failure: finished tasks are kept, interrupted ones resume
(large files at the part where they stopped) and failed objects are retried.
Progress shows as live bars on a terminal and as one line every --progress
otherwise. The exit status is 0 when every object was copied, verified or
skipped.

--dry-run copies nothing: it lists the source and reports what would be
copied, skipped (isSkipExistFile asks the destination for each object;
symbolic links; importSince), fail (InvalidName) and be excluded by each
filter, with counts and bytes, and writes one line per object to
<workingDir>/dryrun/<job>-<time>.csv. Nothing is written at the
destination or in the job's folder.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var jobArg string
			if len(args) == 1 {
				jobArg = args[0]
			}
			return runJob(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), runFlags{
				job: jobArg, sys: sysPath, dryRun: dryRun, every: every, metricsListen: metricsListen,
			})
		},
	}
	cmd.Flags().StringVar(&sysPath, "sys", "", "sys.properties (default conf/sys.properties when present)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "report what would be copied, skipped and excluded (list in <workingDir>/dryrun/); copy nothing")
	cmd.Flags().DurationVar(&every, "progress", 2*time.Second, "how often to print a progress line when not on a terminal (0 disables progress)")
	cmd.Flags().StringVar(&metricsListen, "metrics-listen", "", "serve Prometheus /metrics on this host:port while the job runs (default: none)")
	return cmd
}

type runFlags struct {
	job, sys      string
	dryRun        bool
	every         time.Duration
	metricsListen string
	// resolve builds the job's spec (job.FromConfig when nil; tests give
	// their own stores this way).
	resolve job.Resolver
}

func runJob(ctx context.Context, stdout, stderr io.Writer, f runFlags) error {
	jobPath := f.job
	if jobPath == "" {
		jobPath = defaultJobFile()
	}
	_, s, err := loadConfig(stderr, jobPath, f.sys)
	if err != nil {
		return err
	}
	if s.MemoryLimit > 0 {
		debug.SetMemoryLimit(s.MemoryLimit)
	}
	raw, err := os.ReadFile(jobPath)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	if f.resolve == nil {
		f.resolve = job.FromConfig
	}
	spec, err := f.resolve(jobPath, raw, s)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	src, dst, err := job.Open(ctx, spec)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	if err := job.Preflight(ctx, spec, src, dst); err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	dir := workdir.Dir(s.WorkingDir)
	if f.dryRun {
		return dryRun(ctx, stdout, stderr, spec, src, dst, dir)
	}
	var mx *metrics.Metrics
	if f.metricsListen != "" {
		mx = metrics.New()
		mx.Tasks(metrics.WorkdirTasks(dir))
	}
	// `run` is the service in one process: the same master, tracker,
	// worker, records and lock as `console start`, ending with the job.
	// With natsEmbeddedCluster, run's NATS server joins the other hosts'
	// like the service's would.
	c, err := service.LoadCluster(s, "")
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	member, err := service.EmbeddedServer(s, c)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	if err := service.EnsureServerTLS(s, dir, c); err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	se, err := service.Open(ctx, service.Options{Sys: s, Mode: service.RunMode(s), Metrics: mx, Resolve: f.resolve,
		Cluster: member, TLS: service.TLSFiles(s, dir, c)})
	if err != nil {
		return err
	}
	defer se.Close()
	jobLog := se.Logs().Jobs
	fmt.Fprintf(stderr, "job %s: %s -> %s, working directory %s\n", spec.Name, src.String(), dst.String(), dir)
	sum := runSummary{dir: dir}
	if prior, err := summary.Read(dir, spec.Name); err == nil {
		sum.prior = &prior
	}
	if err := se.SubmitRun(ctx, spec, jobPath, raw); err != nil {
		return &ExitError{Code: 1, Err: err}
	}
	stopMetrics := serveMetrics(ctx, stderr, jobLog, mx, f.metricsListen)
	defer stopMetrics()
	sum.before, _ = tracker.ReadStatus(dir, spec.Name)
	sum.before.Name = spec.Name
	sum.logStart(jobLog)
	started := time.Now()
	stopProgress := followJob(stderr, dir, spec.Name, mx, f.every)
	runCtx, end := context.WithCancel(ctx)
	defer end()
	var ended atomic.Bool
	var wg sync.WaitGroup
	if !spec.Incremental {
		wg.Go(func() {
			if waitJobEnd(runCtx, jobEnded(dir, spec.Name), se.EndSeen, jobEndPoll) {
				ended.Store(true)
				end()
			}
		})
	}
	runErr := se.Run(runCtx)
	end()
	wg.Wait()
	stopProgress()
	st, err := tracker.ReadStatus(dir, spec.Name)
	if err != nil {
		return &ExitError{Code: 1, Err: err}
	}
	sum.status, sum.elapsed = st, time.Since(started)
	sum.interrupted = runErr == nil && !ended.Load()
	sum.logEnd(jobLog)
	sum.write(stdout)
	switch {
	case runErr != nil:
		return &ExitError{Code: 1, Err: runErr}
	case !ended.Load():
		return &ExitError{Code: 130, Err: errors.New("interrupted; run the same command again to continue")}
	case st.State == tracker.Abort:
		return &ExitError{Code: 1, Err: fmt.Errorf("job %s aborted: %s", spec.Name, st.Reason)}
	case st.State != tracker.Succeed:
		return &ExitError{Code: 1, Err: fmt.Errorf("%d objects failed; see %s (failed_tasks/*/audit.log and error.list), then run again to retry them",
			st.FailedObjs, dir.Job(spec.Name))}
	}
	return nil
}

// waitJobEnd waits until ended (true), or ctx ends (false). It looks
// when the master sees a job end (endSeen), and every poll in case it
// does not.
func waitJobEnd(ctx context.Context, ended func() bool, endSeen func() <-chan struct{}, poll time.Duration) bool {
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		seen := endSeen() // before the look: an end between the two wakes it
		if ended() {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-seen:
		case <-t.C:
		}
	}
}

// jobEnded reports whether the job is Succeed, Failed or Abort.
func jobEnded(dir workdir.Dir, name string) func() bool {
	return func() bool {
		st, err := tracker.ReadStatus(dir, name)
		return err == nil && st.Ended()
	}
}

// jobEndPoll is how often run looks whether its job ended when the
// master says nothing.
const jobEndPoll = time.Second
