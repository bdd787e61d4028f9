package console

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/logging"
	"github.com/ossimport/ossimport/internal/master"
	"github.com/ossimport/ossimport/internal/progress"
	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/service"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/workdir"
)

func newStatCommand() *cobra.Command {
	var sysPath string
	var v statView
	var watch, untilDone bool
	var interval time.Duration
	cmd := &cobra.Command{
		Use:     "stat [job_name]",
		Aliases: []string{"Stat"},
		Short:   "stat job",
		Long: `stat shows the state of every job (or of one) from the working directory,
so it works whether or not the service is running. The text keeps
ossimport's lines (JobName:, JobState:, the task counts, Is Scan Finished,
one "<task>:<bytesDone>/<bytesTotal> <filesDone>/<filesTotal>" line per
running task) and adds object and byte totals, throughput, ETA, each failed
task with the causes of its first failed objects, and one Worker: line per
worker the master knows. "stat detail" (the original tool's spelling) is
"stat", and "stat detail <job>" is "stat <job>", unless a job is named
detail. --json prints the jobs as JSON (with
--with-workers, an object holding the jobs and the workers).

--watch shows it again every --interval: redrawn in place on a terminal,
one block after the other otherwise, until Ctrl-C. --until-done (implies
--watch) stops once every job shown is Succeed, Failed or Abort; the exit
status is then 0 only if all of them are Succeed. An incremental job
(isIncremental=true) never ends: it stays Running, Is Scan Finished stays
false, and stat shows its round, when the round's scan ended and when the
next round starts.`,
		Args: cobra.MaximumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := loadValidSys(sysPath)
			if err != nil {
				return err
			}
			if args, err = statArgs(workdir.Dir(s.WorkingDir), args); err != nil {
				printUsage(cmd.OutOrStdout())
				return &ExitError{Code: 1, Err: err}
			}
			v.dir, v.names, v.stderr = workdir.Dir(s.WorkingDir), args, cmd.ErrOrStderr()
			v.askLeader = leaseAsker(cmd.Context(), s)
			// A worker recorded alive whose last heartbeat is older than
			// three missed beats and the master's refresh is lost: its
			// master was killed before it could say so.
			v.stale = 3*s.WorkerHeartbeatInterval + 5*time.Second
			v.ackWait = s.TaskAckWait
			if watch || untilDone {
				if interval <= 0 {
					return &ExitError{Code: 1, Err: fmt.Errorf("--interval must be positive, not %s", interval)}
				}
				return watchStat(cmd.Context(), cmd.OutOrStdout(), v, interval, untilDone)
			}
			jobs, workers, err := v.read()
			if err != nil {
				return &ExitError{Code: 1, Err: err}
			}
			return v.render(cmd.OutOrStdout(), jobs, workers, time.Now())
		},
	}
	cmd.Flags().StringVar(&sysPath, "sys", "", "sys.properties (default conf/sys.properties when present)")
	cmd.Flags().BoolVar(&v.asJSON, "json", false, "print as JSON, for scripts")
	cmd.Flags().BoolVar(&v.withWorkers, "with-workers", false, `with --json, print {"jobs": [...], "workers": [...]} instead of the job list`)
	cmd.Flags().BoolVar(&watch, "watch", false, "show the state again every --interval until Ctrl-C")
	cmd.Flags().BoolVar(&untilDone, "until-done", false, "watch until every job shown is Succeed, Failed or Abort; exit status 0 only if all Succeed")
	cmd.Flags().DurationVar(&interval, "interval", 2*time.Second, "how often --watch shows the state")
	return cmd
}

// statArgs drops the original tool's "detail" argument (its JAR's
// console ran "stat detail"), unless a job is named detail, and refuses
// more than one job name.
func statArgs(dir workdir.Dir, args []string) ([]string, error) {
	if len(args) > 0 && args[0] == "detail" && (len(args) == 2 || !service.FileExists(dir.Job("detail"))) {
		args = args[1:]
	}
	if len(args) > 1 {
		return nil, fmt.Errorf("stat takes at most one job name, not %q", args)
	}
	return args, nil
}

// statView is what one stat shows.
type statView struct {
	dir workdir.Dir
	// names are the jobs asked for; every job when empty.
	names               []string
	asJSON, withWorkers bool
	// stderr receives warnings.
	stderr io.Writer
	// stale, when set, is the heartbeat age past which a worker recorded
	// alive is shown lost.
	stale time.Duration
	// master is the active master, when one runs (see noteMaster).
	master *master.LeaderView
	// askLeader, when set, asks the shared NATS for the master lease's
	// holder when no service runs on this working directory.
	askLeader func() (bus.Leader, bool)
	// ackWait is taskAckWait: a lost worker's tasks go to another
	// worker that long after its last heartbeat.
	ackWait time.Duration
}

// read reads the jobs' status and the workers the master recorded.
func (v *statView) read() ([]tracker.JobStatus, []tracker.WorkerStatus, error) {
	names := v.names
	if len(names) == 0 {
		names = tracker.Jobs(v.dir)
	}
	var all []tracker.JobStatus
	for _, job := range names {
		st, err := tracker.ReadStatus(v.dir, job)
		if err != nil {
			return nil, nil, err
		}
		all = append(all, st)
	}
	v.noteMaster(all, time.Now())
	workers, err := tracker.ReadWorkers(v.dir)
	if err != nil && v.stderr != nil {
		// The jobs are worth showing without the workers.
		fmt.Fprintf(v.stderr, "warning: %v\n", err)
	}
	for i, w := range workers {
		if v.stale > 0 && w.Alive && time.Since(w.LastHeartbeat) > v.stale {
			workers[i].Alive, workers[i].Running, workers[i].BytesPerSecond = false, 0, 0
		}
	}
	return all, workers, nil
}

// statJSON is the --json --with-workers document.
type statJSON struct {
	Jobs    []statJob              `json:"jobs"`
	Workers []tracker.WorkerStatus `json:"workers"`
}

// render prints jobs and workers as text or JSON.
func (v *statView) render(w io.Writer, jobs []tracker.JobStatus, workers []tracker.WorkerStatus, now time.Time) error {
	if v.asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if v.withWorkers {
			doc := statJSON{Jobs: statJobs(v.dir, jobs), Workers: workers}
			if doc.Workers == nil {
				doc.Workers = []tracker.WorkerStatus{}
			}
			return enc.Encode(doc)
		}
		return enc.Encode(statJobs(v.dir, jobs))
	}
	writeStatWith(w, v.dir, jobs, retryLines(jobs, workers, v.ackWait, v.master != nil, now))
	if v.master != nil {
		fmt.Fprintf(w, "Master:%s Since:%s\n", v.master.Name, v.master.Since.Local().Format(time.DateTime))
	}
	writeWorkers(w, workers, now)
	return nil
}

// causeLines is how many failed objects stat shows under a failed task.
const causeLines = 3

// writeStat prints jobs in ossimport's stat layout.
func writeStat(w io.Writer, dir workdir.Dir, jobs []tracker.JobStatus) {
	writeStatWith(w, dir, jobs, nil)
}

// writeStatWith is writeStat with a line per job about its retries
// (statretry.go).
func writeStatWith(w io.Writer, dir workdir.Dir, jobs []tracker.JobStatus, retries map[string]string) {
	if len(jobs) == 0 {
		fmt.Fprintln(w, "no jobs is running or finished.")
		return
	}
	fmt.Fprintln(w, "--------------job stats begin---------------")
	for _, st := range jobs {
		fmt.Fprintln(w, "----------------job stat begin------------------")
		state := st.State
		if !st.NoMasterSince.IsZero() {
			state += " (no master since " + st.NoMasterSince.Local().Format(time.DateTime) + ")"
		}
		fmt.Fprintf(w, "JobName:%s\nJobState:%s\n", st.Name, state)
		if st.Reason != "" {
			fmt.Fprintf(w, "Reason:%s\n", st.Reason)
		}
		fmt.Fprintf(w, "Pending Task Count:%d\nDispatched Task Count:%d\nSucceed Task Count:%d\nFailed Task Count:%d\nIs Scan Finished:%v\n",
			st.Pending, st.Dispatched, st.Succeed, st.Failed, st.ScanFinished)
		if l := retries[st.Name]; l != "" {
			fmt.Fprintln(w, l)
		}
		if st.Incremental {
			writeRounds(w, st, time.Now())
		}
		fmt.Fprintf(w, "Objects:%d/%d Failed:%d\nBytes:%d/%d (%s/%s)\n", st.Objects.Done, st.Objects.Total, st.FailedObjs,
			st.Bytes.Done, st.Bytes.Total, progress.Bytes(st.Bytes.Done), progress.Bytes(st.Bytes.Total))
		writeSummaryLines(w, dir, st)
		if st.Throughput > 0 {
			fmt.Fprintf(w, "Copy Rate:%s/s ETA:%s\n", progress.Bytes(int64(st.Throughput)), st.ETA)
		}
		if len(st.Running) > 0 {
			fmt.Fprintln(w, "RunningTasks Progress:")
			for _, t := range st.Running {
				fmt.Fprintf(w, "%s:%d/%d %d/%d\n", t.ID, t.Bytes.Done, t.Bytes.Total, t.Files.Done, t.Files.Total)
			}
		}
		for _, id := range st.FailedTasks {
			tdir := dir.Task(st.Name, workdir.Failed, "", id)
			fmt.Fprintf(w, "FailedTask:%s causes in %s\n", id, filepath.Join(tdir, workdir.AuditFile))
			causes, more := failedCauses(tdir, causeLines)
			for _, c := range causes {
				fmt.Fprintf(w, "    %s\n", c)
			}
			if more > 0 {
				fmt.Fprintf(w, "    ... %d more failed objects in %s\n", more, filepath.Join(tdir, workdir.ErrorFile))
			}
		}
		fmt.Fprintln(w, "----------------job stat end------------------")
	}
	fmt.Fprintln(w, "--------------job stats end---------------")
}

// writeRounds prints an incremental job's round, when its scan ended and
// when the next round starts.
func writeRounds(w io.Writer, st tracker.JobStatus, now time.Time) {
	fmt.Fprintf(w, "Incremental Round:%d\n", st.Round)
	if st.RoundEnded.IsZero() {
		fmt.Fprintln(w, "Round Scan Ended:scanning")
		return
	}
	fmt.Fprintf(w, "Round Scan Ended:%s\n", st.RoundEnded.Local().Format(time.DateTime))
	if !st.NextRound.IsZero() {
		fmt.Fprintf(w, "Next Round Starts:%s (in %s)\n", st.NextRound.Local().Format(time.DateTime), max(st.NextRound.Sub(now), 0).Round(time.Second))
	}
}

// writeWorkers prints one line per worker the master recorded.
func writeWorkers(w io.Writer, workers []tracker.WorkerStatus, now time.Time) {
	for _, wk := range workers {
		state := "lost"
		switch {
		case wk.Alive:
			state = "alive"
		case wk.Stopped:
			state = "stopped"
		}
		last := "never"
		if !wk.LastHeartbeat.IsZero() {
			age := max(now.Sub(wk.LastHeartbeat), 0).Round(time.Second)
			last = fmt.Sprintf("%s (%s ago)", wk.LastHeartbeat.Local().Format(time.DateTime), age)
		}
		fmt.Fprintf(w, "Worker:%s State:%s LastHeartbeat:%s RunningTasks:%d Throughput:%s/s\n",
			wk.Name, state, last, wk.Running, progress.Bytes(int64(wk.BytesPerSecond)))
	}
}

// auditTail bounds how much of a large audit.log is read for the causes:
// its end holds the latest attempt.
const auditTail = 4 << 20

// failedCauses returns the audit lines, without their time, of the first
// n failed objects of a failed task (the keys of its error.list, in
// order; the last failed lines of its audit.log when the list is empty),
// with secrets masked, and how many more objects failed.
func failedCauses(tdir string, n int) ([]string, int) {
	keys, _ := record.ReadErrorList(tdir)
	total := len(keys)
	if len(keys) > n {
		keys = keys[:n]
	}
	latest := make([]string, len(keys))
	var failed []string
	_ = record.ScanAudit(tdir, auditTail, func(e record.AuditEntry) {
		entry, ok := e.Cause()
		if !ok {
			return
		}
		failed = append(failed, entry)
		for i, k := range keys {
			if strings.HasPrefix(e.Rest, record.AuditKey(k)+" Detail:") {
				latest[i] = entry
			}
		}
	})
	var out []string
	for i, k := range keys {
		if latest[i] == "" {
			latest[i] = "failed " + record.AuditKey(k) + " (no cause recorded)"
		}
		out = append(out, logging.MaskText(latest[i]))
	}
	if len(keys) == 0 {
		if len(failed) > n {
			failed = failed[len(failed)-n:]
		}
		for _, f := range failed {
			out = append(out, logging.MaskText(f))
		}
	}
	return out, max(total-len(out), 0)
}
