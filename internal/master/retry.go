package master

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/workdir"
)

// retryJobs requeues, with requeue, the failed tasks of one job (or of
// every job when job is empty) that have objects a retry can copy; a
// task whose only failures are permanent (record.Permanent: names the
// destination refuses) stays failed. The reply says what was queued and
// which objects need renaming.
func retryJobs(ctx context.Context, dir workdir.Dir, job string, requeue func(ctx context.Context, job, id string) error) (Reply, error) {
	jobs := tracker.Jobs(dir)
	if job != "" {
		jobs = []string{job}
	}
	n, permanent, failedTasks := 0, 0, 0
	var lists []string
	for _, j := range jobs {
		queued := 0
		for _, id := range workdir.Subdirs(filepath.Join(dir.Job(j), workdir.Failed)) {
			failedTasks++
			tdir := dir.Task(j, workdir.Failed, "", id)
			retryable, perm, err := record.Failures(tdir)
			if err != nil {
				return Reply{}, fmt.Errorf("retry job %s: %w", j, err)
			}
			if len(perm) > 0 {
				permanent += len(perm)
				lists = append(lists, filepath.Join(tdir, workdir.ErrorFile))
			}
			if retryable == 0 && len(perm) > 0 {
				continue
			}
			if err := requeue(ctx, j, id); err != nil {
				return Reply{}, err
			}
			queued++
		}
		if queued > 0 { // the job runs again: its final state goes
			_ = os.Remove(filepath.Join(dir.Job(j), workdir.StateFile))
		}
		n += queued
	}
	var msg []string
	switch {
	case n > 0:
		msg = append(msg, "Retry has been submitted.")
	case failedTasks == 0 && len(jobs) == 0:
		msg = append(msg, "None failed tasks.")
	case failedTasks == 0:
		msg = append(msg, "None failed tasks for job:"+strings.Join(jobs, ",")+".")
	default:
		msg = append(msg, "No failed task can be retried for job:"+strings.Join(jobs, ",")+".")
	}
	if permanent > 0 {
		msg = append(msg, fmt.Sprintf("%d objects are not retried: their names can never be copied (InvalidName: not UTF-8, a line break, a leading '/' or too long). "+
			"Rename them at the source (for names in a legacy encoding: convmv -f GBK -t UTF-8 --notest -r <dir>), then copy them with a new job. "+
			"They are listed in %s", permanent, strings.Join(lists, ", ")))
	}
	return Reply{Message: strings.Join(msg, "\n"), Count: n, Permanent: permanent}, nil
}

// Retry is the retry verb without a running master: it requeues the
// failed tasks of one job, or of every job, on b exactly as the master
// does (only their failed objects, the folders moved back to
// pending_tasks), so the service runs them when it is started. The
// caller holds the working directory's lock, so no tracker files tasks
// meanwhile. Each job's counters file is rebuilt from the task folders
// and left without its clean mark: stat reads the requeued tasks as
// pending, and the next master rebuilds the counters again.
func Retry(ctx context.Context, b *bus.Bus, dir workdir.Dir, job string) (Reply, error) {
	touched := map[string]bool{}
	r, err := retryJobs(ctx, dir, job, func(ctx context.Context, job, id string) error {
		touched[job] = true
		return requeueTask(ctx, b, dir, job, id)
	})
	for j := range touched {
		err = errors.Join(err, tracker.RebuildCounters(dir, j))
	}
	if err == nil && r.Count > 0 {
		r.Message += "\nThe service is not running: the tasks run when it is started (console.sh start)."
	}
	return r, err
}

// requeueTask queues a failed task again with only its failed objects:
// the retry goes to the job's journal (every view files it), this view
// files it at once, and the task is published on b.
func requeueTask(ctx context.Context, b *bus.Bus, dir workdir.Dir, job, id string) error {
	attempt := tracker.Retries(dir.Task(job, workdir.Failed, "", id)) + 1
	n := strconv.Itoa(attempt)
	if err := b.Append(ctx, job, bus.KindRequeue, id, id+"-"+n, []byte(n)); err != nil {
		return err
	}
	retry, err := tracker.ApplyRequeue(dir, job, id, attempt)
	if err != nil || retry.ID == "" {
		return err // retry.ID empty: the task runs already
	}
	data, err := protocol.EncodeTask(retry)
	if err != nil {
		return err
	}
	return b.RetryTask(ctx, job, id, attempt, data)
}
