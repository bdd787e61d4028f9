package transfer_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/local"
	"github.com/ossimport/ossimport/internal/storage/memory"
	"github.com/ossimport/ossimport/internal/transfer"
)

// nameSep separates the object names of one fuzz input.
const nameSep = "\xfe|"

var fuzzStores atomic.Int64

// FuzzObjectNames puts objects under arbitrary names (NUL, newlines,
// invalid UTF-8, very long names, leading slashes, dot elements,
// directory markers) in a source, plans them and copies every task into
// a memory and a local destination: nothing panics, every name is
// planned once, and every planned name ends in exactly one result, with
// a code from the closed set (successes only for names a destination
// can hold).
func FuzzObjectNames(f *testing.F) {
	for _, seed := range []string{
		"a.txt" + nameSep + "dir/b.txt" + nameSep + "dir/",
		"nul\x00inside" + nameSep + "new\nline" + nameSep + "cr\rret",
		"bad\xff\xfeutf8" + nameSep + "\xc3\x28" + nameSep + "ok/\xe4\xb8\xad\xe6\x96\x87",
		"/leading" + nameSep + "//double" + nameSep + "a//b" + nameSep + "/",
		"../escape" + nameSep + "a/../b" + nameSep + "./x" + nameSep + "a/./b" + nameSep + ".",
		strings.Repeat("long/", 250) + "end" + nameSep + strings.Repeat("x", 1100),
		"same" + nameSep + "same" + nameSep + "same/" + nameSep + "same/child",
		"\\back\\slash" + nameSep + "tab\tname" + nameSep + " space " + nameSep + "\x7fdel",
	} {
		f.Add(seed, uint8(7))
	}
	f.Fuzz(func(t *testing.T, raw string, sizes uint8) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		src := memory.New(fmt.Sprintf("fuzz-src-%d", fuzzStores.Add(1)))
		names := map[string]bool{}
		for i, name := range strings.Split(raw, nameSep) {
			if name == "" || names[name] {
				continue
			}
			size := int64(sizes>>(i%8)) & 3 // 0 to 3 bytes
			if strings.HasSuffix(name, "/") {
				size = 0
			}
			meta := storage.Metadata{User: map[string]string{storage.ModTimeMetaKey: "1700000000"}}
			if _, err := src.Put(ctx, name, bytes.NewReader(make([]byte, size)), size, meta); err != nil {
				continue // the source cannot hold it: nothing to plan
			}
			names[name] = true
		}

		var mu sync.Mutex
		var tasks []plan.Task
		p, err := plan.New(src, plan.Options{Job: "fuzz", MaxObjects: 3, MaxBytes: 1 << 20},
			func(_ context.Context, tk plan.Task) error {
				mu.Lock()
				tasks = append(tasks, tk)
				mu.Unlock()
				return nil
			},
			func(context.Context, *plan.Checkpoint) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Run(ctx, nil); err != nil {
			t.Fatalf("plan: %v", err)
		}
		planned := map[string]int{}
		for _, tk := range tasks {
			for _, o := range tk.Objects {
				planned[o.Key]++
			}
		}
		for name := range names {
			if planned[name] != 1 {
				t.Errorf("name %q planned %d times, want once", name, planned[name])
			}
		}

		ld, err := local.New(t.TempDir(), local.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, dst := range []storage.Destination{memory.New("fuzz-dst"), ld} {
			c, err := transfer.New(dst, src, transfer.Options{MultipartThreshold: 1 << 20, PartSize: 1 << 20, SkipExisting: true,
				RetryBudget: 10 * time.Millisecond, RetryBase: time.Millisecond, RetryMax: time.Millisecond, NoServerSideCopy: true})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for _, tk := range tasks {
				c.RunAll(ctx, transfer.NewSlots(4), tk.Objects, func(r transfer.Result) {
					got[r.Object.Key]++
					known := false
					for _, code := range transfer.Codes {
						known = known || code == r.Code
					}
					if !known {
						t.Errorf("%s: name %q: unknown code %q", dst, r.Object.Key, r.Code)
					}
					if r.Code == transfer.Succeed && storage.CheckKey(dst, r.Object.Dst()) != nil {
						t.Errorf("%s: name %q breaks the destination's name rules but was copied", dst, r.Object.Key)
					}
				})
			}
			for name, n := range planned {
				if got[name] != n {
					t.Errorf("%s: name %q has %d results, want %d", dst, name, got[name], n)
				}
			}
			if len(got) != len(planned) {
				t.Errorf("%s: %d names have results, %d were planned", dst, len(got), len(planned))
			}
		}
	})
}
