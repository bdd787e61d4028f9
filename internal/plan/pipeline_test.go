package plan

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/testenv"
)

// countingLister counts the pages listed and calls onList before each.
type countingLister struct {
	storage.Source
	mu     sync.Mutex
	lists  int
	onList func(n int)
}

func (c *countingLister) List(ctx context.Context, opts storage.ListOptions) (storage.Page, error) {
	c.mu.Lock()
	c.lists++
	n := c.lists
	c.mu.Unlock()
	if c.onList != nil {
		c.onList(n)
	}
	return c.Source.List(ctx, opts)
}

func (c *countingLister) listed() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lists
}

// TestListingGoesOnWhileATaskIsEmitted holds the first emit (a slow
// publish) and checks that the listing goes on meanwhile, but no further
// than the commit window: page n (one task a page) is listed only once
// the emits of all but the last 2+commitWindow tasks returned. Everything
// is still planned once, with the checkpoint after each task.
func TestListingGoesOnWhileATaskIsEmitted(t *testing.T) {
	const perTask = 5
	src := tree(t, 60)
	gate := make(chan struct{})
	var mu sync.Mutex
	emitted := 0
	var bad []string
	lister := &countingLister{Source: src}
	lister.onList = func(n int) {
		mu.Lock()
		defer mu.Unlock()
		// The pages of the emitted tasks, the one being emitted, those in
		// the window and the one being built: this page is the next.
		if limit := emitted + 2 + commitWindow; n > limit {
			bad = append(bad, "page listed beyond the commit window")
		}
	}
	c := &collector{}
	emit := func(ctx context.Context, tk Task) error {
		if c.emits == 0 {
			select {
			case <-gate:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		err := c.emit(ctx, tk)
		mu.Lock()
		emitted++
		mu.Unlock()
		return err
	}
	opts := Options{Job: "job", MaxObjects: perTask, MaxBytes: 1 << 30, PageSize: perTask}
	p, err := New(lister, opts, emit, c.save)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := p.Run(t.Context(), nil)
		done <- err
	}()
	testenv.Wait(t, 10*time.Second, "pages listed while the first task is emitted",
		func() bool { return lister.listed() >= 2+commitWindow })
	close(gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Fatal(bad[0])
	}
	if got, want := c.keys(t), allKeys(t, src); len(got) != len(want) {
		t.Fatalf("planned %d keys, want %d", len(got), len(want))
	}
	if !c.cp.Done || c.cp.Stats.Listed != 60 || c.cp.Stats.Planned != 60 {
		t.Fatalf("final checkpoint %+v", c.cp.Stats)
	}
}

// TestAFailedEmitStopsTheListing checks that the scan returns the emit's
// error, not the listing threads' "an earlier task could not be
// committed", and that no checkpoint covers the failed task.
func TestAFailedEmitStopsTheListing(t *testing.T) {
	src := tree(t, 60)
	for _, threads := range []int{1, 3} {
		c := &collector{failEmit: 2}
		opts := Options{Job: "job", MaxObjects: 4, MaxBytes: 1 << 30, ScanThreads: threads, MaxScanDepth: 2, PageSize: 5}
		_, err := run(t, src, opts, c, nil)
		if !errors.Is(err, errCrash) {
			t.Fatalf("threads %d: scan ended with %v, want the emit's error", threads, err)
		}
		if c.cp != nil && c.cp.Stats.Tasks > 1 {
			t.Fatalf("threads %d: a checkpoint covers %d tasks after the second emit failed", threads, c.cp.Stats.Tasks)
		}
	}
}
