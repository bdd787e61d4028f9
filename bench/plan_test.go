package bench

import (
	"context"
	"encoding/json"
	"runtime/metrics"
	"testing"

	"github.com/ossimport/ossimport/internal/plan"
)

// BenchmarkPlan1M plans one million objects into tasks of 10000, with
// one and four scan threads, encoding every task as the master files it
// (json.Marshal of a plan.Task) and every checkpoint it saves after a
// task (encoded, not written). It reports objects per second, the peak
// heap and the allocations.
func BenchmarkPlan1M(b *testing.B) {
	for _, threads := range []int{1, 4} {
		b.Run(map[int]string{1: "threads=1", 4: "threads=4"}[threads], func(b *testing.B) {
			src := synthetic{n: 1_000_000}
			var peak uint64
			b.ReportAllocs()
			for b.Loop() {
				var tasks int
				emit := func(_ context.Context, t plan.Task) error {
					tasks++
					_, err := json.Marshal(t)
					return err
				}
				save := func(_ context.Context, cp *plan.Checkpoint) error {
					peak = max(peak, heapBytes())
					_, err := json.Marshal(cp)
					return err
				}
				opts := plan.Options{Job: "bench", MaxObjects: 10000, MaxBytes: 1 << 40, ScanThreads: threads, MaxScanDepth: 1}
				p, err := plan.New(src, opts, emit, save)
				if err != nil {
					b.Fatal(err)
				}
				cp, err := p.Run(context.Background(), nil)
				if err != nil || cp.Stats.Planned != 1_000_000 {
					b.Fatalf("planned %d (%v)", cp.Stats.Planned, err)
				}
			}
			b.ReportMetric(float64(1_000_000*b.N)/b.Elapsed().Seconds(), "objects/s")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		})
	}
}

func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
