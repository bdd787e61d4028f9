//go:build unix

package transfer

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/testenv"
)

// BenchmarkPerObjectToVersityGW measures what each small object costs the
// client on the copy path as the worker runs it: RunAll with 32 slots
// (the bench's workerTaskThreadNum), local files into versitygw on
// loopback, isAuditAfterImport on. One op is one object; besides ns/op
// (wall, which depends on the server and the machine's load) it reports
// the process's CPU time per object (user + system, from getrusage:
// versitygw runs in its own process) and heap allocations per object,
// the figures that do not move with the load. For profiles:
//
//	go test -run XXX -bench PerObjectToVersityGW -benchtime 4000x \
//	    -cpuprofile cpu.out -memprofile mem.out ./internal/transfer
func BenchmarkPerObjectToVersityGW(b *testing.B) {
	srv := testenv.VersityGW(b)
	for _, size := range []int{4 << 10, 64 << 10} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			const files = 500
			dir := b.TempDir()
			data := randomBytes(files*size, uint64(size))
			for i := range files {
				if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%04d", i)), data[i*size:(i+1)*size], 0o644); err != nil {
					b.Fatal(err)
				}
			}
			c, src := copierToVersityGW(b, srv, dir, Options{MultipartThreshold: 64 << 20, PartSize: 16 << 20, PartConcurrency: 8, VerifyAfterCopy: true})
			objs := make([]Object, files)
			for i := range objs {
				objs[i] = statObject(b, src, fmt.Sprintf("f%04d", i))
			}
			slots := NewSlots(32)
			failed := ""
			b.SetBytes(int64(size))
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			cpu0 := cpuTime(b)
			b.ResetTimer()
			for i := 0; i < b.N; {
				n := min(files, b.N-i)
				c.RunAll(b.Context(), slots, objs[:n], func(r Result) {
					if r.Code != Succeed && failed == "" {
						failed = r.Detail
					}
				})
				i += n
			}
			b.StopTimer()
			cpu := cpuTime(b) - cpu0
			runtime.ReadMemStats(&ms1)
			if failed != "" {
				b.Fatal(failed)
			}
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
			b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(b.N), "mallocs/op")
			b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/float64(b.N), "alloc-B/op")
		})
	}
}

// cpuTime is the process's user + system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
