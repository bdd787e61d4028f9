package plan

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/memory"
)

// TestExcludedReportsEveryDroppedObject: each listed object the filters
// drop reaches Excluded once with its reason (importSince, the filter
// KeepReason names, "filter" without one, unchanged); directory markers
// and planned objects do not.
func TestExcludedReportsEveryDroppedObject(t *testing.T) {
	st := memory.New(t.Name())
	put := func(key string, mtime int64) {
		meta := storage.Metadata{User: map[string]string{storage.ModTimeMetaKey: fmt.Sprint(mtime)}}
		if _, err := st.Put(t.Context(), key, bytes.NewReader(make([]byte, 10)), 10, meta); err != nil {
			t.Fatal(err)
		}
	}
	put("src/a.jpg", 100)
	put("src/b.txt", 100)
	put("src/old.jpg", 5)
	put("src/tmp/c.jpg", 100)
	put("src/same.jpg", 100)
	put("src/dir/", 100)
	keep := func(rel string, _ storage.ObjectInfo) bool {
		return !strings.HasPrefix(rel, "tmp/") && strings.HasSuffix(rel, ".jpg")
	}
	tests := []struct {
		name   string
		reason func(rel string, _ storage.ObjectInfo) string
		want   map[string]string
	}{
		{"with KeepReason", func(rel string, _ storage.ObjectInfo) string {
			if strings.HasPrefix(rel, "tmp/") {
				return "excludePatterns tmp/*"
			}
			return "includePatterns"
		}, map[string]string{"src/b.txt": "includePatterns", "src/dir/": "includePatterns", "src/old.jpg": "importSince", "src/tmp/c.jpg": "excludePatterns tmp/*", "src/same.jpg": "unchanged"}},
		{"without KeepReason", nil,
			map[string]string{"src/b.txt": "filter", "src/dir/": "filter", "src/old.jpg": "importSince", "src/tmp/c.jpg": "filter", "src/same.jpg": "unchanged"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			got := map[string]string{}
			opts := Options{Job: "job", Prefix: "src/", MaxObjects: 100, MaxBytes: 1 << 30, Since: time.Unix(50, 0), Keep: keep, KeepReason: tc.reason,
				ScanThreads: 3, MaxScanDepth: 2,
				Changed: func(_ context.Context, info storage.ObjectInfo, _ string) bool { return info.Key != "src/same.jpg" },
				Excluded: func(info storage.ObjectInfo, reason string) {
					mu.Lock()
					defer mu.Unlock()
					if _, dup := got[info.Key]; dup {
						t.Errorf("%s reported twice", info.Key)
					}
					got[info.Key] = reason
				}}
			c := &collector{}
			cp, err := run(t, st, opts, c, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, tc.want) {
				t.Fatalf("excluded %v, want %v", got, tc.want)
			}
			// A "/" key is filtered like any object, and reported.
			if cp.Stats.Planned != 1 || cp.Stats.Filtered != int64(len(tc.want)) {
				t.Errorf("stats %+v: want 1 planned and every filtered object reported", cp.Stats)
			}
		})
	}
}
