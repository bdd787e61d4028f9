package worker

import (
	"context"
	"sync"
	"time"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/transfer"
)

// taskProgress counts what a running task did: the objects it finished
// and the bytes read so far of those still in flight. It is safe for
// concurrent use.
type taskProgress struct {
	mu          sync.Mutex
	files       int64 // finished objects
	bytes       int64 // sizes of objects finished successfully
	copied      int64 // sizes of objects copied
	flight      map[string]*flying
	files0, all int64 // planned objects and bytes
}

// flying is an object being copied.
type flying struct{ read, size int64 }

func newTaskProgress(task plan.Task) *taskProgress {
	return &taskProgress{flight: map[string]*flying{}, files0: int64(len(task.Objects)), all: task.Bytes}
}

// read counts n bytes read of obj (transfer.Options.OnObjectBytes). An
// object read again (a retry, a resumed upload) never counts for more
// than its size.
func (p *taskProgress) read(obj transfer.Object, n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f, ok := p.flight[obj.Key]
	if !ok {
		f = &flying{size: obj.Size}
		p.flight[obj.Key] = f
	}
	f.read += n
	if f.size >= 0 {
		f.read = min(f.read, f.size)
	}
}

// finish counts a finished object; its bytes in flight become done.
func (p *taskProgress) finish(r transfer.Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.flight, r.Object.Key)
	p.files++
	if r.Code.OK() {
		p.bytes += max(r.Size, 0)
	}
	if r.Code == transfer.Succeed {
		p.copied += max(r.Size, 0)
	}
}

// snapshot is the progress to report now.
func (p *taskProgress) snapshot() protocol.TaskProgress {
	p.mu.Lock()
	defer p.mu.Unlock()
	tp := protocol.TaskProgress{FilesDone: p.files, FilesTotal: p.files0, BytesTotal: p.all,
		FilesInFlight: int64(len(p.flight)), At: time.Now()}
	for _, f := range p.flight {
		tp.BytesInFlight += f.read
	}
	tp.BytesDone = p.bytes + tp.BytesInFlight
	tp.BytesCopied = p.copied + tp.BytesInFlight
	return tp
}

// reportProgress publishes the task's progress at once and then every
// ProgressInterval until ctx ends.
func (w *Worker) reportProgress(ctx context.Context, msg *bus.TaskMsg, p *taskProgress) {
	t := time.NewTicker(w.opts.Settings.ProgressInterval)
	defer t.Stop()
	for {
		tp := p.snapshot()
		tp.Job, tp.TaskID, tp.Worker = msg.Job, msg.TaskID, w.opts.Name
		if data, err := protocol.EncodeProgress(tp); err == nil {
			_ = w.opts.Bus.PublishProgress(msg.Job, msg.TaskID, w.opts.Name, data)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// keepAlive extends the task's ack deadline every KeepAlive until ctx
// ends, so the queue does not hand it to another worker.
func (w *Worker) keepAlive(ctx context.Context, msg *bus.TaskMsg) {
	t := time.NewTicker(w.opts.KeepAlive)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := msg.InProgress(); err != nil {
				w.log.Warn("cannot extend the task's deadline", "task", msg.TaskID, "err", err)
			}
		}
	}
}
