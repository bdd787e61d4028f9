package dashboard

import (
	"fmt"
	"testing"

	"github.com/ossimport/ossimport/internal/workdir"
)

// BenchmarkDashboardSample: one throughput sample of 200 jobs whose
// counters files did not change (one stat each), and of 200 whose
// files all changed (one read each).
func BenchmarkDashboardSample(b *testing.B) {
	for _, changed := range []bool{false, true} {
		b.Run(fmt.Sprintf("changed=%v", changed), func(b *testing.B) {
			dir := workdir.Dir(b.TempDir())
			for i := range 200 {
				writeCounters(b, dir, fmt.Sprintf("job%03d", i), copied(int64(i), int64(i)*1000))
			}
			h, err := New(Options{Dir: dir})
			if err != nil {
				b.Fatal(err)
			}
			h.Sample()
			b.ResetTimer()
			for n := range b.N {
				if changed {
					b.StopTimer()
					for i := range 200 {
						writeCounters(b, dir, fmt.Sprintf("job%03d", i), copied(int64(i+n+1), int64(i+n+1)*1000))
					}
					b.StartTimer()
				}
				h.Sample()
			}
		})
	}
	// For comparison: reading every job's status, as the sampler did.
	b.Run("statuses", func(b *testing.B) {
		dir := workdir.Dir(b.TempDir())
		for i := range 200 {
			writeCounters(b, dir, fmt.Sprintf("job%03d", i), copied(int64(i), int64(i)*1000))
		}
		h, err := New(Options{Dir: dir})
		if err != nil {
			b.Fatal(err)
		}
		for range b.N {
			h.statuses(true)
		}
	})
}
