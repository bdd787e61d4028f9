package plan

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ossimport/ossimport/internal/storage"
)

// Planner scans one source for one job.
type Planner struct {
	src  storage.Source
	opts Options
	emit Emit
	save Save
}

// New returns a planner of src that hands tasks to emit and checkpoints
// to save.
func New(src storage.Source, opts Options, emit Emit, save Save) (*Planner, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if emit == nil || save == nil {
		return nil, fmt.Errorf("plan: emit and save must be set")
	}
	return &Planner{src: src, opts: opts, emit: emit, save: save}, nil
}

// scan is one run of the planner.
type scan struct {
	p     *Planner
	mu    sync.Mutex
	cond  *sync.Cond
	cp    *Checkpoint
	queue []string
	busy  int
	err   error

	// The listing threads hand finished tasks to one committer (commits,
	// in order), which emits each and saves the checkpoint after it, so
	// the listing goes on while a task is published. failed is closed
	// when a commit fails.
	commits chan commit
	failed  chan struct{}
	// size is the object count of the last full task of any shard.
	size atomic.Int64
}

// commitWindow is how many finished tasks may wait for the committer:
// planning memory stays bounded by ScanThreads tasks being built plus
// these and the one being committed.
const commitWindow = 1

// commit is a finished task (or none, for a shard's end) with the shard
// position after it and the objects counted since the shard's last one.
type commit struct {
	prefix           string
	task             *Task
	pos              ShardState
	listed, filtered int64
}

// Run plans the whole source, resuming cp when it is not nil, and returns
// the final checkpoint (Done set) with the scan's statistics.
func (p *Planner) Run(ctx context.Context, cp *Checkpoint) (*Checkpoint, error) {
	if cp == nil || cp.Round != p.opts.Round {
		cp = &Checkpoint{Job: p.opts.Job, Round: p.opts.Round, Started: time.Now().UnixMilli(), Shards: map[string]*ShardState{}}
		// Task ids include Started: it is saved before the first task is
		// emitted, so a scan resumed after a crash names its tasks the same.
		if err := p.save(ctx, cp.clone()); err != nil {
			return cp, err
		}
	}
	if cp.Done {
		return cp, nil
	}
	s := &scan{p: p, cp: cp, commits: make(chan commit, commitWindow), failed: make(chan struct{})}
	s.cond = sync.NewCond(&s.mu)
	if len(cp.Shards) == 0 {
		cp.Shards[p.opts.Prefix] = &ShardState{Flat: p.flat(0)}
	}
	for prefix, st := range cp.Shards {
		if !st.Done {
			s.queue = append(s.queue, prefix)
		}
	}
	var committer sync.WaitGroup
	committer.Go(func() { s.commitAll(ctx) })
	var wg sync.WaitGroup
	for range p.opts.ScanThreads {
		wg.Go(func() { s.work(ctx) })
	}
	wg.Wait()
	close(s.commits)
	committer.Wait()
	if s.err != nil {
		return cp, s.err
	}
	cp.Done, cp.Finished = true, time.Now().UnixMilli()
	if err := p.save(ctx, cp.clone()); err != nil {
		return cp, err
	}
	return cp, nil
}

// flat reports whether a shard at depth is listed down the whole tree
// rather than one directory level with its subdirectories fanned out.
func (p *Planner) flat(depth int) bool {
	return p.opts.ScanThreads == 1 || depth >= p.opts.MaxScanDepth || p.src.Capabilities().UnsortedListing
}

// work plans queued shards until none is left or one fails.
func (s *scan) work(ctx context.Context) {
	for {
		s.mu.Lock()
		for len(s.queue) == 0 && s.busy > 0 && s.err == nil {
			s.cond.Wait()
		}
		if len(s.queue) == 0 || s.err != nil {
			s.cond.Broadcast()
			s.mu.Unlock()
			return
		}
		prefix := s.queue[0]
		s.queue = s.queue[1:]
		s.busy++
		s.mu.Unlock()

		err := s.shard(ctx, prefix)

		s.mu.Lock()
		s.busy--
		if err != nil && s.err == nil {
			s.err = err
		}
		s.cond.Broadcast()
		s.mu.Unlock()
	}
}

// shard plans one shard from its checkpointed position.
func (s *scan) shard(ctx context.Context, prefix string) error {
	s.mu.Lock()
	st := *s.cp.Shards[prefix]
	s.mu.Unlock()
	b := &builder{s: s, prefix: prefix, token: st.Token, skip: st.Skip, seq: st.Seq}
	opts := storage.ListOptions{Prefix: prefix, Token: st.Token, Limit: s.p.opts.PageSize}
	if !st.Flat {
		opts.Delimiter = "/"
	}
	for {
		page, err := s.p.src.List(ctx, opts)
		if err != nil {
			return fmt.Errorf("list %s prefix %q: %w", s.p.src, prefix, err)
		}
		if err := b.page(ctx, page, opts.Token); err != nil {
			return err
		}
		s.addShards(page.Prefixes, st.Depth+1)
		if page.NextToken == "" {
			return b.finish(ctx)
		}
		opts.Token = page.NextToken
	}
}

// addShards queues subdirectories found by a delimited listing. Known
// shards (seen before a restart) are left alone.
func (s *scan) addShards(prefixes []string, depth int) {
	if len(prefixes) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range prefixes {
		if _, known := s.cp.Shards[p]; known {
			continue
		}
		s.cp.Shards[p] = &ShardState{Depth: depth, Flat: s.p.flat(depth)}
		s.queue = append(s.queue, p)
	}
	s.cond.Broadcast()
}

// enqueue hands a commit to the committer, waiting while the window is
// full; it fails once a commit failed or ctx ends.
func (s *scan) enqueue(ctx context.Context, c commit) error {
	select {
	case s.commits <- c:
		return nil
	case <-s.failed:
		return errCommitFailed
	case <-ctx.Done():
		return fmt.Errorf("plan: %w", ctx.Err())
	}
}

// errCommitFailed stops a listing thread after the committer failed; the
// scan returns the committer's error.
var errCommitFailed = errors.New("plan: an earlier task could not be committed")

// commitAll commits the queued commits in order until the queue is
// closed, and drops the rest after one fails.
func (s *scan) commitAll(ctx context.Context) {
	var err error
	for c := range s.commits {
		if err != nil {
			continue
		}
		if err = s.commit(ctx, c); err != nil {
			s.mu.Lock()
			s.err = err // before the listing threads' errCommitFailed
			s.cond.Broadcast()
			s.mu.Unlock()
			close(s.failed)
		}
	}
}

// commit emits a task and advances the shard's checkpoint past it, or
// marks the shard done when the task is nil.
func (s *scan) commit(ctx context.Context, c commit) error {
	if t := c.task; t != nil {
		t.ID = taskID(s.p.opts.Job, s.p.opts.Round, c.prefix, c.pos.Seq-1, s.cp.Started)
		if err := s.p.emit(ctx, *t); err != nil {
			return fmt.Errorf("emit task %s: %w", t.ID, err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := c.task; t != nil {
		s.cp.Stats.Tasks++
		s.cp.Stats.Planned += int64(len(t.Objects))
		s.cp.Stats.Bytes += t.Bytes
	}
	s.cp.Stats.Listed += c.listed
	s.cp.Stats.Filtered += c.filtered
	st := s.cp.Shards[c.prefix]
	pos := c.pos
	pos.Depth, pos.Flat = st.Depth, st.Flat
	*st = pos
	return s.p.save(ctx, s.cp.clone())
}
