package console

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/ossimport/ossimport/internal/runner"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/workdir"
)

func newStatCommand() *cobra.Command {
	var sysPath string
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "stat [job_name]",
		Aliases: []string{"Stat"},
		Short:   "stat job",
		Long: `stat shows the state of every job (or of one) from the working directory,
so it works whether or not the service is running. The text keeps
ossimport's lines (JobName:, JobState:, the task counts, Is Scan Finished,
one "<task>:<bytesDone>/<bytesTotal> <filesDone>/<filesTotal>" line per
running task) and adds object and byte totals, throughput, ETA and where
to read each failed task's causes. --json prints the same as JSON.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := loadValidSys(sysPath)
			if err != nil {
				return err
			}
			dir := workdir.Dir(s.WorkingDir)
			jobs := tracker.Jobs(dir)
			if len(args) == 1 {
				jobs = args
			}
			var all []tracker.JobStatus
			for _, job := range jobs {
				st, err := tracker.ReadStatus(dir, job)
				if err != nil {
					return &ExitError{Code: 1, Err: err}
				}
				all = append(all, st)
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(all)
			}
			writeStat(cmd.OutOrStdout(), dir, all)
			return nil
		},
	}
	cmd.Flags().StringVar(&sysPath, "sys", "", "sys.properties (default conf/sys.properties when present)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON, for scripts")
	return cmd
}

// writeStat prints jobs in ossimport's stat layout.
func writeStat(w io.Writer, dir workdir.Dir, jobs []tracker.JobStatus) {
	if len(jobs) == 0 {
		fmt.Fprintln(w, "no jobs is running or finished.")
		return
	}
	fmt.Fprintln(w, "--------------job stats begin---------------")
	for _, st := range jobs {
		fmt.Fprintln(w, "----------------job stat begin------------------")
		fmt.Fprintf(w, "JobName:%s\nJobState:%s\n", st.Name, st.State)
		if st.Reason != "" {
			fmt.Fprintf(w, "Reason:%s\n", st.Reason)
		}
		fmt.Fprintf(w, "Pending Task Count:%d\nDispatched Task Count:%d\nSucceed Task Count:%d\nFailed Task Count:%d\nIs Scan Finished:%v\n",
			st.Pending, st.Dispatched, st.Succeed, st.Failed, st.ScanFinished)
		fmt.Fprintf(w, "Objects:%d/%d Failed:%d\nBytes:%d/%d (%s/%s)\n", st.Objects.Done, st.Objects.Total, st.FailedObjs,
			st.Bytes.Done, st.Bytes.Total, runner.Bytes(st.Bytes.Done), runner.Bytes(st.Bytes.Total))
		if st.Throughput > 0 {
			fmt.Fprintf(w, "Throughput:%s/s ETA:%s\n", runner.Bytes(int64(st.Throughput)), st.ETA)
		}
		if len(st.Running) > 0 {
			fmt.Fprintln(w, "RunningTasks Progress:")
			for _, t := range st.Running {
				fmt.Fprintf(w, "%s:%d/%d %d/%d\n", t.ID, t.Bytes.Done, t.Bytes.Total, t.Files.Done, t.Files.Total)
			}
		}
		for _, id := range st.FailedTasks {
			fmt.Fprintf(w, "FailedTask:%s causes in %s\n", id, filepath.Join(dir.Task(st.Name, workdir.Failed, "", id), "audit.log"))
		}
		fmt.Fprintln(w, "----------------job stat end------------------")
	}
	fmt.Fprintln(w, "--------------job stats end---------------")
}
