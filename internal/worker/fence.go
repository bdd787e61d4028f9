package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/transfer"
)

// taskFence is a delivery's ownership of its task (a bus claim): the
// copier asks it before every write (transfer.Options.Fence), and once
// the claim is lost (the task went to another worker after this one
// passed its ack wait, or the job was cleaned) the delivery writes,
// reports, acks and hands back nothing more.
type taskFence struct {
	claim *bus.Claim
	log   *slog.Logger
	lost  atomic.Bool
	// fresh is how long a confirmed claim is trusted without asking the
	// bus again; ok the time of the last confirmation.
	fresh time.Duration
	mu    sync.Mutex
	ok    time.Time
	// asking serialises the checks that ask the bus.
	asking sync.Mutex
}

// fenceFresh is how long a claim confirmed by the bus is trusted for the
// writes that follow (a check costs a bus round trip, ~0.1-0.4 ms, per
// small object). A worker frozen longer than that (SIGSTOP, a machine
// suspended) asks again when it wakes: the monotonic and the wall clock
// must both say the confirmation is recent.
const fenceFresh = 200 * time.Millisecond

// The pauses between attempts to claim a task while the bus cannot
// answer: the first, doubled up to the last.
const (
	claimPause    = 250 * time.Millisecond
	claimPauseMax = 4 * time.Second
)

// claimTask claims msg's task for this delivery. A bus that cannot
// record the claim (its owners bucket electing a leader after a node
// was lost) is asked again, the delivery kept alive, for up to half the
// ack wait: handing the task back at once would spend one of its
// taskMaxDeliver deliveries per second of the outage, and an election
// of a few seconds would fail tasks that never started.
func (w *Worker) claimTask(ctx context.Context, msg *bus.TaskMsg, log *slog.Logger) (*taskFence, error) {
	deadline := time.Now().Add(w.opts.Settings.AckWait / 2)
	pause := claimPause
	for tries := 1; ; tries++ {
		actx, cancel := context.WithTimeout(ctx, max(min(uploadOpTimeout, time.Until(deadline)), time.Second))
		c, err := msg.Claim(actx)
		cancel()
		if err == nil {
			if tries > 1 {
				log.Info("task claimed", "tries", tries)
			}
			return &taskFence{claim: c, log: log, fresh: min(fenceFresh, w.opts.Settings.AckWait/10), ok: time.Now()}, nil
		}
		if ctx.Err() != nil || time.Until(deadline) < pause {
			return nil, fmt.Errorf("%d tries: %w", tries, err)
		}
		if tries == 1 {
			log.Info("cannot claim the task yet; trying again", "err", err)
		}
		if err := msg.InProgress(); err != nil {
			log.Debug("cannot extend the task's deadline", "err", err)
		}
		if transfer.Sleep(ctx, pause) != nil {
			return nil, fmt.Errorf("%d tries: %w", tries, err)
		}
		pause = min(2*pause, claimPauseMax)
	}
}

// check is the copier's fence: nil while the delivery owns its task.
func (f *taskFence) check(ctx context.Context, _ transfer.Object) error {
	if f.lost.Load() {
		return transfer.ErrFenced
	}
	if f.recent() {
		return nil
	}
	// One bus round trip for all the copies that find the confirmation
	// stale at once (32 of them, every fenceFresh, with small objects):
	// the others wait for its answer.
	f.asking.Lock()
	defer f.asking.Unlock()
	if f.lost.Load() {
		return transfer.ErrFenced
	}
	if f.recent() {
		return nil
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), uploadOpTimeout)
	defer cancel()
	err := f.claim.Check(cctx)
	switch {
	case err == nil:
		f.mu.Lock()
		f.ok = time.Now()
		f.mu.Unlock()
		return nil
	case errors.Is(err, bus.ErrNotOwner):
		if !f.lost.Swap(true) {
			f.log.Warn("the task was handed to another delivery: this one stops writing", "err", err)
		}
		return fmt.Errorf("%w (%v)", transfer.ErrFenced, err)
	}
	// Ownership unknown: do not write now, try again later.
	return storage.Transient(fmt.Errorf("check that this worker still owns the task: %w", err))
}

// recent reports whether the claim was confirmed within fresh, by both
// the monotonic and the wall clock (which, unlike the monotonic one,
// moves while the machine is suspended).
func (f *taskFence) recent() bool {
	f.mu.Lock()
	ok := f.ok
	f.mu.Unlock()
	wall := time.Now().Round(0).Sub(ok.Round(0))
	return time.Since(ok) < f.fresh && wall >= 0 && wall < f.fresh
}

// isLost reports whether the delivery lost its task, asking the bus
// unless it knows already; a bus that cannot answer counts as not lost.
func (f *taskFence) isLost(ctx context.Context) bool {
	if f.lost.Load() {
		return true
	}
	f.mu.Lock()
	f.ok = time.Time{} // ask the bus
	f.mu.Unlock()
	err := f.check(ctx, transfer.Object{})
	return errors.Is(err, transfer.ErrFenced)
}

// release drops the claim of a task this delivery ended (a claim taken
// over meanwhile is left alone).
func (f *taskFence) release() {
	ctx, cancel := context.WithTimeout(context.Background(), uploadOpTimeout)
	defer cancel()
	if err := f.claim.Release(ctx); err != nil {
		f.log.Warn("cannot release the task's claim; the next delivery takes it over", "err", err)
	}
}

// fenced deals with the multipart upload an object given up for lost
// ownership left: the new owner resumes it when the task's upload record
// still names it, and then it is left alone; otherwise nobody will
// finish it, and it is aborted.
func (u *taskUploads) fenced(r transfer.Result, c *transfer.Copier) {
	id, _ := r.PendingUpload()
	if id == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), uploadOpTimeout)
	defer cancel()
	recs, err := u.w.opts.Bus.TaskUploads(ctx, u.job, u.task)
	if err != nil {
		u.log.Warn("cannot read the task's upload records; the upload of a lost object is left for clean", "key", r.Object.Key, "err", err)
		return
	}
	for _, rec := range recs {
		if rec.Key == r.Object.Key && rec.UploadID == id {
			return // the new owner's to resume
		}
	}
	if err := c.AbortUpload(ctx, r.Object, id); err != nil && !errors.Is(err, storage.ErrNotExist) {
		u.log.Warn("cannot abort the upload of a lost object", "key", r.Object.Key, "err", err)
	}
}
