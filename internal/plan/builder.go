package plan

import (
	"context"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/transfer"
)

// builder cuts one shard's listing into tasks.
type builder struct {
	s      *scan
	prefix string
	// token and skip are the checkpointed position the shard resumes
	// from; skip applies to the first page listed only.
	token string
	skip  int
	seq   int
	// last is the object count of the last page seen.
	last int

	objs  []transfer.Object
	bytes int64
	group string
	// size is the object count of the shard's last full task, to size
	// the next (scan.size: any shard's, for a shard's first).
	size int
	// listed and filtered count the objects seen since the last commit
	// handed on: they go with it into the checkpoint.
	listed, filtered int64
}

// page adds one listing page, emitting tasks as they fill up.
func (b *builder) page(ctx context.Context, page storage.Page, token string) error {
	start := 0
	if token == b.token && b.skip > 0 {
		start, b.skip = min(b.skip, len(page.Objects)), 0
	}
	opts := &b.s.p.opts
	for i := start; i < len(page.Objects); i++ {
		info := page.Objects[i]
		if !opts.keep(ctx, info) {
			b.listed++
			b.filtered++
			continue
		}
		if len(b.objs) > 0 && b.full(info) {
			// The checkpoint saved with the task covers the objects
			// before i, and so do the counts it carries: a resumed scan
			// counts the others once.
			if err := b.flush(ctx, token, i); err != nil {
				return err
			}
		}
		b.listed++
		b.add(info)
		if len(b.objs) >= opts.MaxObjects {
			if err := b.flush(ctx, token, i+1); err != nil {
				return err
			}
		}
	}
	b.token = token
	b.last = len(page.Objects)
	return nil
}

// full reports whether info must start a new task.
func (b *builder) full(info storage.ObjectInfo) bool {
	opts := &b.s.p.opts
	if opts.GroupKey != nil {
		return opts.GroupKey(info) != b.group
	}
	return info.Size > 0 && b.bytes+info.Size > opts.MaxBytes
}

func (b *builder) add(info storage.ObjectInfo) {
	opts := &b.s.p.opts
	if len(b.objs) == 0 {
		if opts.GroupKey != nil {
			b.group = opts.GroupKey(info)
		}
		// Sized like the shard's last task (tasks are alike), so that a
		// task of thousands of objects is not copied over as it grows.
		b.objs = make([]transfer.Object, 0, min(opts.MaxObjects, max(b.size, int(b.s.size.Load()), 64)))
	}
	b.objs = append(b.objs, opts.object(info))
	if info.Size > 0 {
		b.bytes += info.Size
	}
}

// flush hands the pending objects on as a task; the listing position
// after them is object next of the page listed with token.
func (b *builder) flush(ctx context.Context, token string, next int) error {
	b.seq++
	t := &Task{Job: b.s.p.opts.Job, Round: b.s.p.opts.Round, Objects: b.objs, Bytes: b.bytes}
	b.size = len(b.objs)
	b.s.size.Store(int64(b.size))
	b.objs, b.bytes = nil, 0
	return b.hand(ctx, t, ShardState{Token: token, Skip: next, Seq: b.seq})
}

// finish hands on the last task and marks the shard done, with one
// checkpoint: a source of many small folders (a shard each) saves one
// checkpoint per folder, not two.
func (b *builder) finish(ctx context.Context) error {
	if len(b.objs) == 0 {
		return b.hand(ctx, nil, ShardState{Seq: b.seq, Done: true})
	}
	b.seq++
	t := &Task{Job: b.s.p.opts.Job, Round: b.s.p.opts.Round, Objects: b.objs, Bytes: b.bytes}
	b.objs, b.bytes = nil, 0
	return b.hand(ctx, t, ShardState{Seq: b.seq, Done: true})
}

// hand queues a commit with the objects counted since the last one.
func (b *builder) hand(ctx context.Context, t *Task, pos ShardState) error {
	c := commit{prefix: b.prefix, task: t, pos: pos, listed: b.listed, filtered: b.filtered}
	b.listed, b.filtered = 0, 0
	return b.s.enqueue(ctx, c)
}
