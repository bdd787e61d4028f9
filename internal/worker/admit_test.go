package worker_test

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/testenv"

	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/memory"
	"github.com/ossimport/ossimport/internal/worker"
)

// turnstileDest holds every put until the test lets it through, one
// token per put.
type turnstileDest struct {
	*memory.Store
	waiting atomic.Int64
	tokens  chan struct{}
}

func (d *turnstileDest) Put(ctx context.Context, key string, r io.Reader, size int64, meta storage.Metadata) (storage.PutResult, error) {
	d.waiting.Add(1)
	select {
	case <-d.tokens:
		d.waiting.Add(-1)
	case <-ctx.Done():
		d.waiting.Add(-1)
		return storage.PutResult{}, ctx.Err()
	}
	return d.Store.Put(ctx, key, r, size, meta)
}

// eventually waits for cond with the shared helper's deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testenv.Wait(t, 30*time.Second, what, cond)
}

// TestJoiningWorkerSharesTheLoad: a worker takes only the tasks it can
// start, so a worker that joins at the start finds the rest of the
// queue and the two get an even share. Each round the test lets exactly
// the objects both workers hold through: with 4 slots and tasks of 4
// objects, each worker holds one task per round (a worker pulling
// workerTaskThreadNum tasks at once held 4 and left the other 4).
func TestJoiningWorkerSharesTheLoad(t *testing.T) {
	r := newRig(t, nil) // four slots (workerTaskThreadNum)
	results := r.results()
	src := memory.New("src")
	dst := &turnstileDest{Store: memory.New("dst"), tokens: make(chan struct{})}
	r.submit("share", src, dst)
	const tasks, per = 8, 4
	for i := range tasks {
		r.queue("share", fmt.Sprintf("T%d", i), objects(t, src, fmt.Sprintf("t%d-", i), per, 10))
	}
	a, _ := r.start("a", nil)
	eventually(t, "worker a fills its slots", func() bool { return dst.waiting.Load() == per })
	if n := worker.Running(a); n != 1 {
		t.Fatalf("worker a holds %d tasks while one fills its slots; want 1", n)
	}
	b, _ := r.start("b", nil)
	got := map[string]int{}
	for round := range tasks / 2 {
		eventually(t, fmt.Sprintf("round %d: both workers fill their slots", round), func() bool { return dst.waiting.Load() == 2*per })
		// A task whose objects all finished may still be reporting.
		eventually(t, fmt.Sprintf("round %d: each worker holds one task", round), func() bool {
			return worker.Running(a) == 1 && worker.Running(b) == 1
		})
		for range 2 * per {
			dst.tokens <- struct{}{}
		}
		for range 2 {
			res := next(t, results, "result")
			if res.Counters.Copied != per {
				t.Fatalf("task %s: %+v", res.TaskID, res.Counters)
			}
			got[res.Worker]++
		}
	}
	if got["a"] != tasks/2 || got["b"] != tasks/2 {
		t.Fatalf("tasks per worker %v; want %d each", got, tasks/2)
	}
}

// TestResultsStreamedInBatches: a task's successes are published as
// partial results of worker.ResultBatch objects as they finish, and the
// final result lists only the rest while counting the whole task.
func TestResultsStreamedInBatches(t *testing.T) {
	r := newRig(t, nil)
	results := r.results()
	src := memory.New("src")
	r.submit("stream", src, memory.New("dst"))
	n := 2*worker.ResultBatch + 7
	objs := objects(t, src, "k", n, 1)
	r.queue("stream", "T", objs)
	r.start("w", nil)
	seen := map[string]int{}
	var final protocol.TaskResult
	for partials := 0; ; partials++ {
		res := next(t, results, "result")
		for _, o := range res.Objects {
			seen[o.Object.Key]++
		}
		if !res.Partial {
			if partials != 2 {
				t.Fatalf("%d partial results before the final one; want 2", partials)
			}
			final = res
			break
		}
		if len(res.Objects) != worker.ResultBatch || res.Counters.Copied != int64(worker.ResultBatch) {
			t.Fatalf("partial result of %d objects (%+v); want %d", len(res.Objects), res.Counters, worker.ResultBatch)
		}
	}
	if len(final.Objects) != 7 || final.Counters.Copied != int64(n) {
		t.Fatalf("final result: %d objects, counters %+v; want 7 objects, %d copied", len(final.Objects), final.Counters, n)
	}
	for _, o := range objs {
		if seen[o.Key] != 1 {
			t.Fatalf("object %s reported %d times", o.Key, seen[o.Key])
		}
	}
}
