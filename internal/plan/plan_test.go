package plan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/memory"
)

// tree fills a memory store with n objects in nested directories; object
// i has i%7+1 bytes.
func tree(t *testing.T, n int) *memory.Store {
	t.Helper()
	st := memory.New(t.Name())
	for i := range n {
		key := fmt.Sprintf("d%d/e%d/f%04d", i%3, i%5, i)
		data := bytes.Repeat([]byte{'x'}, i%7+1)
		if _, err := st.Put(t.Context(), key, bytes.NewReader(data), int64(len(data)), storage.Metadata{}); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// collector records emitted tasks and saved checkpoints.
type collector struct {
	mu    sync.Mutex
	tasks map[string]Task
	order []string
	cp    *Checkpoint
	// failAfter makes the n-th emit or save fail, to simulate a crash.
	failEmit, failSave int
	emits, saves       int
}

var errCrash = errors.New("crash")

func (c *collector) emit(_ context.Context, t Task) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.emits++
	if c.emits == c.failEmit {
		return errCrash
	}
	if c.tasks == nil {
		c.tasks = map[string]Task{}
	}
	if old, dup := c.tasks[t.ID]; dup && fmt.Sprint(old.Objects) != fmt.Sprint(t.Objects) {
		return fmt.Errorf("task %s re-emitted with different objects", t.ID)
	}
	if _, dup := c.tasks[t.ID]; !dup {
		c.order = append(c.order, t.ID)
	}
	c.tasks[t.ID] = t
	return nil
}

func (c *collector) save(_ context.Context, cp *Checkpoint) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.saves++
	if c.saves == c.failSave {
		return errCrash
	}
	c.cp = cp
	return nil
}

// keys returns every planned key, failing on duplicates across tasks.
func (c *collector) keys(t *testing.T) []string {
	t.Helper()
	seen := map[string]string{}
	var keys []string
	for _, id := range c.order {
		for _, o := range c.tasks[id].Objects {
			if other, dup := seen[o.Key]; dup {
				t.Fatalf("%s planned twice, in tasks %s and %s", o.Key, other, id)
			}
			seen[o.Key] = id
			keys = append(keys, o.Key)
		}
	}
	slices.Sort(keys)
	return keys
}

func allKeys(t *testing.T, st *memory.Store) []string {
	t.Helper()
	page, err := st.List(t.Context(), storage.ListOptions{Limit: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range page.Objects {
		keys = append(keys, o.Key)
	}
	return keys
}

func run(t *testing.T, src storage.Source, opts Options, c *collector, cp *Checkpoint) (*Checkpoint, error) {
	t.Helper()
	p, err := New(src, opts, c.emit, c.save)
	if err != nil {
		t.Fatal(err)
	}
	return p.Run(t.Context(), cp)
}

func TestSplitLimits(t *testing.T) {
	src := tree(t, 200)
	tests := []struct {
		name       string
		maxObjects int
		maxBytes   int64
		threads    int
		depth      int
	}{
		{"by count", 7, 1 << 30, 1, 1},
		{"by size", 10000, 20, 1, 1},
		{"one object per task", 1, 1 << 30, 1, 1},
		{"both, 4 threads depth 1", 9, 30, 4, 1},
		{"both, 3 threads depth 2", 9, 30, 3, 2},
		{"everything in one task", 100000, 1 << 30, 2, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &collector{}
			opts := Options{Job: "job", MaxObjects: tc.maxObjects, MaxBytes: tc.maxBytes, ScanThreads: tc.threads, MaxScanDepth: tc.depth, PageSize: 13}
			cp, err := run(t, src, opts, c, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := c.keys(t), allKeys(t, src); !slices.Equal(got, want) {
				t.Fatalf("planned %d keys, want %d", len(got), len(want))
			}
			for _, task := range c.tasks {
				if len(task.Objects) > tc.maxObjects {
					t.Errorf("task %s has %d objects, limit %d", task.ID, len(task.Objects), tc.maxObjects)
				}
				if len(task.Objects) > 1 && task.Bytes > tc.maxBytes {
					t.Errorf("task %s has %d bytes, limit %d", task.ID, task.Bytes, tc.maxBytes)
				}
			}
			if !cp.Done || cp.Stats.Planned != 200 || cp.Stats.Tasks != int64(len(c.tasks)) {
				t.Errorf("checkpoint done=%v stats=%+v, want done with 200 planned in %d tasks", cp.Done, cp.Stats, len(c.tasks))
			}
		})
	}
}

// TestResumeAfterCrashAnywhere crashes the scan at every emit and every
// save in turn, resumes from the last saved checkpoint, and checks that
// every object is planned exactly once.
func TestResumeAfterCrashAnywhere(t *testing.T) {
	src := tree(t, 60)
	want := allKeys(t, src)
	for _, threads := range []int{1, 3} {
		opts := Options{Job: "job", MaxObjects: 4, MaxBytes: 1 << 30, ScanThreads: threads, MaxScanDepth: 2, PageSize: 5}
		full := &collector{}
		if _, err := run(t, src, opts, full, nil); err != nil {
			t.Fatal(err)
		}
		for crash := 1; crash <= full.saves; crash++ {
			for _, atEmit := range []bool{true, false} {
				c := &collector{}
				if atEmit {
					c.failEmit = crash
				} else {
					c.failSave = crash
				}
				_, err := run(t, src, opts, c, nil)
				if !errors.Is(err, errCrash) {
					continue // fewer emits than saves
				}
				c.failEmit, c.failSave = 0, 0
				// The restart happens later: a task id must not depend on
				// when the resumed scan started.
				time.Sleep(2 * time.Millisecond)
				cp, err := run(t, src, opts, c, c.cp)
				if err != nil {
					t.Fatalf("threads %d, crash at %d (emit %v): resume: %v", threads, crash, atEmit, err)
				}
				if got := c.keys(t); !slices.Equal(got, want) {
					t.Fatalf("threads %d, crash at %d (emit %v): planned %d keys after resume, want %d", threads, crash, atEmit, len(got), len(want))
				}
				if !cp.Done {
					t.Fatal("resumed scan not done")
				}
			}
		}
	}
}

func TestTaskIDsAreStable(t *testing.T) {
	src := tree(t, 30)
	opts := Options{Job: "job", MaxObjects: 4, MaxBytes: 1 << 30, ScanThreads: 2, MaxScanDepth: 1}
	a, b := &collector{}, &collector{}
	cpA, _ := run(t, src, opts, a, nil)
	_, _ = run(t, src, opts, b, &Checkpoint{Job: "job", Started: cpA.Started, Shards: map[string]*ShardState{}})
	ids := func(c *collector) []string { s := slices.Clone(c.order); slices.Sort(s); return s }
	if !slices.Equal(ids(a), ids(b)) {
		t.Fatal("planning the same source twice gave different task ids")
	}
	for id := range a.tasks {
		if len(id) < 34 || id[32] != '_' || strings.ToUpper(id[:32]) != id[:32] {
			t.Fatalf("task id %q is not <32 HEX>_<millis>", id)
		}
	}
}

func TestDestinationKeysAndFilters(t *testing.T) {
	st := memory.New(t.Name())
	put := func(key string, size int, mtime int64) {
		meta := storage.Metadata{User: map[string]string{storage.ModTimeMetaKey: fmt.Sprint(mtime)}}
		if _, err := st.Put(t.Context(), key, bytes.NewReader(make([]byte, size)), int64(size), meta); err != nil {
			t.Fatal(err)
		}
	}
	put("src/a.jpg", 10, 100)
	put("src/b.txt", 10, 100)
	put("src/old.jpg", 10, 5)
	put("src/tmp/c.jpg", 10, 100)
	put("src/dir/", 0, 100)
	put("other/x.jpg", 10, 100)
	var seen []string
	keep := func(rel string, info storage.ObjectInfo) bool {
		seen = append(seen, rel)
		return !strings.HasPrefix(rel, "tmp/") && strings.HasSuffix(rel, ".jpg")
	}
	c := &collector{}
	opts := Options{Job: "job", Prefix: "src/", DstPrefix: "backup/", MaxObjects: 100, MaxBytes: 1 << 30, Since: time.Unix(50, 0), Keep: keep}
	cp, err := run(t, st, opts, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, id := range c.order {
		for _, o := range c.tasks[id].Objects {
			got = append(got, o.Key+"->"+o.Dst())
		}
	}
	if want := []string{"src/a.jpg->backup/a.jpg"}; !slices.Equal(got, want) {
		t.Fatalf("planned %q, want %q", got, want)
	}
	if want := []string{"a.jpg", "b.txt", "dir/", "tmp/c.jpg"}; !slices.Equal(seen, want) {
		t.Errorf("Keep saw %q, want relative keys %q (old objects never reach it; directory markers do, as objects)", seen, want)
	}
	if cp.Stats.Listed != 5 || cp.Stats.Filtered != 4 {
		t.Errorf("stats %+v, want 5 listed and 4 filtered", cp.Stats)
	}
}

func TestGroupKeyStartsNewTasks(t *testing.T) {
	// ossimport: lines hz,hz,bj,bj make 2 tasks; hz,bj,hz,bj make 4.
	for _, tc := range []struct {
		groups string
		tasks  int
	}{{"hz hz bj bj", 2}, {"hz bj hz bj", 4}, {"hz hz hz hz hz", 2}} {
		st := memory.New(t.Name() + tc.groups)
		for i, g := range strings.Fields(tc.groups) {
			key := fmt.Sprintf("%02d", i)
			meta := storage.Metadata{User: map[string]string{"group": g}}
			if _, err := st.Put(t.Context(), key, strings.NewReader("x"), 1, meta); err != nil {
				t.Fatal(err)
			}
		}
		c := &collector{}
		opts := Options{Job: "job", MaxObjects: 3, MaxBytes: 1, GroupKey: func(o storage.ObjectInfo) string {
			info, _ := st.Stat(context.Background(), o.Key)
			return info.Meta.User["group"]
		}}
		if _, err := run(t, st, opts, c, nil); err != nil {
			t.Fatal(err)
		}
		if len(c.tasks) != tc.tasks {
			t.Errorf("%s: %d tasks, want %d", tc.groups, len(c.tasks), tc.tasks)
		}
	}
}

// TestChangedSeesDestinationKeys: incremental rescans ask Changed about
// each object at its destination key, and plan only what it reports.
func TestChangedSeesDestinationKeys(t *testing.T) {
	st := memory.New(t.Name())
	for _, key := range []string{"src/same", "src/new", "other/x"} {
		if _, err := st.Put(t.Context(), key, strings.NewReader("x"), 1, storage.Metadata{}); err != nil {
			t.Fatal(err)
		}
	}
	var asked []string
	changed := func(ctx context.Context, info storage.ObjectInfo, dstKey string) bool {
		if ctx == nil {
			t.Error("Changed called without a context")
		}
		asked = append(asked, info.Key+"->"+dstKey)
		return info.Key != "src/same"
	}
	c := &collector{}
	opts := Options{Job: "job", Prefix: "src/", DstPrefix: "backup/", MaxObjects: 10, MaxBytes: 1 << 30, Round: 1, Changed: changed}
	if _, err := run(t, st, opts, c, nil); err != nil {
		t.Fatal(err)
	}
	slices.Sort(asked)
	if want := []string{"src/new->backup/new", "src/same->backup/same"}; !slices.Equal(asked, want) {
		t.Errorf("Changed asked about %q, want %q", asked, want)
	}
	if got := c.keys(t); !slices.Equal(got, []string{"src/new"}) {
		t.Errorf("planned %q, want only src/new", got)
	}
}

// TestDirectoryKeysArePlanned: keys ending in "/" (zero-byte markers and
// "/" keys holding data) go into tasks like other objects, so the worker
// copies or reports each; only the marker of srcPrefix itself, which maps
// to the destination's root when destPrefix is empty, is left out.
func TestDirectoryKeysArePlanned(t *testing.T) {
	st := memory.New(t.Name())
	for key, size := range map[string]int{"src/": 0, "src/a/": 0, "src/a/f": 3, "src/x/": 21} {
		if _, err := st.Put(t.Context(), key, bytes.NewReader(make([]byte, size)), int64(size), storage.Metadata{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		dstPrefix string
		want      []string
	}{
		{"", []string{"src/a/->a/", "src/a/f->a/f", "src/x/->x/"}},
		{"backup/", []string{"src/->backup/", "src/a/->backup/a/", "src/a/f->backup/a/f", "src/x/->backup/x/"}},
	} {
		c := &collector{}
		opts := Options{Job: "job", Prefix: "src/", DstPrefix: tc.dstPrefix, MaxObjects: 100, MaxBytes: 1 << 30, ScanThreads: 2, MaxScanDepth: 2}
		if _, err := run(t, st, opts, c, nil); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, id := range c.order {
			for _, o := range c.tasks[id].Objects {
				got = append(got, o.Key+"->"+o.Dst())
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("destPrefix %q: planned %q, want %q", tc.dstPrefix, got, tc.want)
		}
	}
}
