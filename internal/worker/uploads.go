package worker

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/transfer"
)

// uploadOpTimeout bounds one upload-record operation on the bus. It does
// not follow the task's context: an object that finished while the
// worker stops must still drop its record.
const uploadOpTimeout = 10 * time.Second

// taskUploads keeps the multipart uploads of one task's large objects in
// the bus (bus.Upload records), so that whichever worker runs the task
// next (after a hand-back, a crash or a retry) resumes each upload at its
// first missing part, and clean can abort what no worker will finish.
//
// A record is written when an upload starts and removed when its object
// ends without leaving an upload behind: copied (the upload completed),
// or failed in a way after which transfer aborted the upload. It stays
// when the copy is interrupted or fails transiently.
type taskUploads struct {
	w         *Worker
	job, task string
	delivery  uint64
	log       *slog.Logger

	mu       sync.Mutex
	recorded map[string]string // source key → upload ID on the bus
}

// trackUploads attaches the task's recorded uploads to its objects and
// returns the copier to run the task with, which records the uploads it
// starts, and the tracker whose ended (or fenced, for an object lost to
// another delivery) is to be called with each object's result.
func (w *Worker) trackUploads(ctx context.Context, msg *bus.TaskMsg, task *plan.Task, c *transfer.Copier, threshold int64, log *slog.Logger) (*transfer.Copier, *taskUploads) {
	u := &taskUploads{w: w, job: msg.Job, task: msg.TaskID, delivery: msg.Delivered, log: log, recorded: map[string]string{}}
	if mayUseMultipart(task.Objects, threshold) {
		u.resume(ctx, task.Objects)
	}
	tracked := c.With(func(o *transfer.Options) {
		next := o.OnUploadStarted
		o.OnUploadStarted = func(obj transfer.Object, id string, partSize int64) {
			u.put(obj, id, partSize)
			if next != nil {
				next(obj, id, partSize)
			}
		}
	})
	return tracked, u
}

// mayUseMultipart reports whether an object of objs can be large enough
// for a multipart upload; tasks of small objects skip the look-up.
func mayUseMultipart(objs []transfer.Object, threshold int64) bool {
	for _, o := range objs {
		if o.Size < 0 || o.Size > threshold {
			return true
		}
	}
	return false
}

// resume attaches the task's upload records to its objects.
func (u *taskUploads) resume(ctx context.Context, objs []transfer.Object) {
	ctx, cancel := context.WithTimeout(ctx, uploadOpTimeout)
	defer cancel()
	recs, err := u.w.opts.Bus.TaskUploads(ctx, u.job, u.task)
	if err != nil {
		u.log.Warn("cannot read the task's unfinished uploads; its large objects start over", "err", err)
		return
	}
	byKey := make(map[string]bus.Upload, len(recs))
	for _, r := range recs {
		byKey[r.Key] = r
	}
	n := 0
	for i := range objs {
		o := &objs[i]
		r, ok := byKey[o.Key]
		if !ok || r.DstKey != o.Dst() {
			continue
		}
		o.UploadID, o.PartSize = r.UploadID, r.PartSize
		u.recorded[o.Key] = r.UploadID
		n++
	}
	if n > 0 {
		u.log.Info("resuming unfinished multipart uploads", "uploads", n)
	}
}

// put records an upload that started.
func (u *taskUploads) put(obj transfer.Object, id string, partSize int64) {
	ctx, cancel := context.WithTimeout(context.Background(), uploadOpTimeout)
	defer cancel()
	rec := bus.Upload{Key: obj.Key, DstKey: obj.Dst(), UploadID: id, PartSize: partSize, Started: time.Now().UTC(), Worker: u.w.opts.Name, Delivery: u.delivery}
	if err := u.w.opts.Bus.PutUpload(ctx, u.job, u.task, rec); err != nil {
		u.log.Warn("cannot record a multipart upload; if this copy is interrupted it starts over", "err", err)
		return
	}
	u.mu.Lock()
	u.recorded[obj.Key] = id
	u.mu.Unlock()
}

// ended keeps the record of an object that ended in step with the upload
// its copy left (none, or one to resume).
func (u *taskUploads) ended(r transfer.Result) {
	id, partSize := r.PendingUpload()
	u.mu.Lock()
	have := u.recorded[r.Object.Key]
	u.mu.Unlock()
	switch {
	case id == "" && have != "":
		ctx, cancel := context.WithTimeout(context.Background(), uploadOpTimeout)
		defer cancel()
		if err := u.w.opts.Bus.DeleteUpload(ctx, u.job, u.task, r.Object.Key); err != nil {
			u.log.Warn("cannot remove the record of a finished multipart upload", "err", err)
			return
		}
		u.mu.Lock()
		delete(u.recorded, r.Object.Key)
		u.mu.Unlock()
	case id != "" && id != have:
		// Left for a retry, but not on record (recording it failed).
		u.put(r.Object, id, partSize)
	}
}
