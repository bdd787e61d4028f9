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

	"github.com/ossimport/ossimport/internal/storage/local"
	"github.com/ossimport/ossimport/internal/storage/s3"
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
			src, err := local.New(dir, local.Options{})
			if err != nil {
				b.Fatal(err)
			}
			dst, err := s3.New(b.Context(), s3.Config{Endpoint: srv.Endpoint, Region: srv.Region, Bucket: srv.CreateBucket(b, ""),
				AccessKey: srv.AccessKey, SecretKey: srv.SecretKey})
			if err != nil {
				b.Fatal(err)
			}
			c, err := New(dst, src, Options{MultipartThreshold: 64 << 20, PartSize: 16 << 20, PartConcurrency: 8, VerifyAfterCopy: true})
			if err != nil {
				b.Fatal(err)
			}
			objs := make([]Object, files)
			for i := range objs {
				key := fmt.Sprintf("f%04d", i)
				info, err := src.Stat(b.Context(), key)
				if err != nil {
					b.Fatal(err)
				}
				objs[i] = Object{Key: key, Size: info.Size, ModTime: info.ModTime}
			}
			slots := NewSlots(32)
			batch := make([]Object, 0, files)
			failed := ""
			copyBatch := func() {
				c.RunAll(b.Context(), slots, batch, func(r Result) {
					if r.Code != Succeed && failed == "" {
						failed = r.Detail
					}
				})
				batch = batch[:0]
			}
			b.SetBytes(int64(size))
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			cpu0 := cpuTime(b)
			i := 0
			for b.Loop() {
				batch = append(batch, objs[i%files])
				i++
				if len(batch) == files {
					copyBatch()
				}
			}
			copyBatch()
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
