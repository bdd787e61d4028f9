package master

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/job"
	"github.com/ossimport/ossimport/internal/workdir"
)

// Control verbs the console sends to a running service.
const (
	VerbPing  = "ping"
	VerbStop  = "stop"
	VerbRetry = "retry" // data: a job name, or empty for every job
	VerbClean = "clean" // data: a job name
)

// Reply is the answer to a control request.
type Reply struct {
	Message string `json:"message"`
	// Count is what the verb acted on (tasks requeued, say).
	Count int `json:"count"`
	// Permanent counts the failed objects retry left out: their names can
	// never be copied (record.Permanent).
	Permanent int `json:"permanent,omitempty"`
}

// control answers the console.
func (m *Master) control(verb string, data []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var r Reply
	var err error
	switch verb {
	case VerbPing:
		r.Message = "running"
	case VerbStop:
		r.Message = "stopping"
		go m.opts.Stop()
	case VerbRetry:
		r, err = m.retry(ctx, string(data))
	case VerbClean:
		r, err = m.clean(ctx, string(data))
	default:
		err = fmt.Errorf("unknown control verb %q", verb)
	}
	if err != nil {
		return nil, err
	}
	return json.Marshal(r)
}

// retry requeues the failed tasks of one job, or of every job (Retry
// does it without a running master).
func (m *Master) retry(ctx context.Context, job string) (Reply, error) {
	return retryJobs(ctx, m.opts.Dir, job, m.requeue)
}

// requeue queues a failed task again with only its failed objects;
// objects that failed because the source changed are taken as they are
// now. Its folder moves back to pending_tasks and keeps its progress, so
// the final counters cover every object.
func (m *Master) requeue(ctx context.Context, job, id string) error {
	defer m.tr.Change(job, id)()
	return requeueTask(ctx, m.opts.Bus, m.opts.Dir, job, id)
}

// clean removes a job: its planning stops, its queued tasks and state go,
// and its workdir folder is deleted, so the name can be submitted again.
func (m *Master) clean(ctx context.Context, job string) (Reply, error) {
	if job == "" {
		return Reply{}, fmt.Errorf("clean needs a job name")
	}
	// The job is not planned while it is cleaned: a planning started
	// between here and the removal of its spec would plan the old job
	// again, and its end would hide a new submission under the name.
	m.mu.Lock()
	m.cleaning[job] = true
	if p, ok := m.planning[job]; ok {
		p.cancel()
		delete(m.planning, job)
	}
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		delete(m.cleaning, job)
		delete(m.done, job)
		m.mu.Unlock()
	}()
	m.tr.Forget(job)
	if err := Clean(ctx, m.opts.Bus, m.opts.Dir, job, m.opts.Resolve, m.opts.Settings.ResolveWith); err != nil {
		return Reply{}, err
	}
	m.tr.Forget(job) // and what a late report loaded meanwhile
	return Reply{Message: "Clean job:" + job + " completed."}, nil
}

// Clean removes a job's queue, state and workdir folder, and aborts its
// unfinished multipart uploads at the destination, which it opens from
// the job's submitted spec with resolve (job.FromConfig when nil) and
// sys. Nothing is removed when an upload cannot be aborted, so that the
// clean can be run again. The console calls it directly when the
// service is not running.
func Clean(ctx context.Context, b *bus.Bus, dir workdir.Dir, job string, resolve job.Resolver, sys *config.Sys) error {
	if err := abortUploads(ctx, b, job, resolve, sys); err != nil {
		return fmt.Errorf("clean job %s: %w", job, err)
	}
	if err := b.PurgeJob(ctx, job); err != nil {
		return fmt.Errorf("clean job %s: %w", job, err)
	}
	// Again: a task that was running may have started an upload since.
	if err := abortUploads(ctx, b, job, resolve, sys); err != nil {
		return fmt.Errorf("clean job %s: %w", job, err)
	}
	for _, kv := range []*bus.KV{b.Jobs(), b.Checkpoints()} {
		if err := kv.Delete(ctx, job); err != nil {
			return fmt.Errorf("clean job %s: %w", job, err)
		}
	}
	// The other services' views remove the job when they file this.
	if err := b.Append(ctx, job, bus.KindClean, "", "", nil); err != nil {
		return fmt.Errorf("clean job %s: %w", job, err)
	}
	// A result or progress report of the job filed while the folder is
	// removed can add a file behind RemoveAll: its queue and results are
	// gone by now, so a few more passes see the folder empty.
	var err error
	for range 5 {
		if err = os.RemoveAll(dir.Job(job)); err == nil {
			return nil
		}
	}
	return fmt.Errorf("clean job %s: %w", job, err)
}
