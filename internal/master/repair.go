package master

import (
	"context"
	"time"

	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/tracker"
)

// repairTasks restores the damaged task folders of every job from its
// plan log (tracker.Repair) before anything is filed: each damage is
// logged with its path, and a task whose folder was lost is queued
// again, so no planned object is dropped and no job is Succeed with
// objects missing.
func (m *Master) repairTasks(ctx context.Context) {
	for _, name := range tracker.Jobs(m.opts.Dir) {
		damages, requeue, err := tracker.Repair(m.opts.Dir, name)
		for _, d := range damages {
			m.log.Warn("damaged task found", "job", name, "task", d.Task, "path", d.Path, "detail", d.String())
			m.jlog.Warn("damaged task found", "job", name, "task", d.Task, "path", d.Path, "detail", d.String())
		}
		if err != nil {
			m.log.Error("cannot repair the job's task folders", "job", name, "err", err)
		}
		for _, t := range requeue {
			// Queued as a retry, numbered by the time: the first run's
			// message id may still be in the queue's duplicates window.
			data, err := protocol.EncodeTask(t)
			if err == nil {
				err = m.opts.Bus.RetryTask(ctx, t.Job, t.ID, int(time.Now().Unix()), data)
			}
			if err != nil {
				m.log.Error("cannot queue a restored task", "job", name, "task", t.ID, "err", err)
			}
		}
	}
}
