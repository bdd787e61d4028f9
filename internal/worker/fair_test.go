package worker_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/memory"
	"github.com/ossimport/ossimport/internal/testenv"
	"github.com/ossimport/ossimport/internal/worker"
)

// countingSource counts the bytes read of the keys under prefix.
type countingSource struct {
	*memory.Store
	prefix string
	read   atomic.Int64
}

func (c *countingSource) Open(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	rc, err := c.Store.Open(ctx, key, off, n)
	if err != nil || !strings.HasPrefix(key, c.prefix) {
		return rc, err
	}
	return &countingReader{ReadCloser: rc, n: &c.read}, nil
}

type countingReader struct {
	io.ReadCloser
	n *atomic.Int64
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	r.n.Add(int64(n))
	return n, err
}

// TestSmallFilesFlowWhileLargeOnesUpload: under a throughput cap, a
// task of small files queued while two large files upload (multipart, 8
// parts in flight each) finishes while the large files read less than
// half their bytes: every stream, part or small object, gets its turn at
// the cap. When reads took a whole burst of the cap each, every small
// read waited behind 16 parts' bursts and the small task finished with
// the large files.
func TestSmallFilesFlowWhileLargeOnesUpload(t *testing.T) {
	r := newRig(t, func(s *config.Sys) { s.WorkerMaxThroughputKB = 2048 }) // 2 MiB/s, 512 KiB bursts; 4 slots
	results := r.results()
	src := &countingSource{Store: memory.New("src"), prefix: "big"}
	r.submit("mixed", src, memory.New("dst"),
		"multipartUploadThreshold=2m", "multipartUploadPartSize=256k", "uploadThreadNumPerLargeFile=8")
	const big = 4 << 20
	large := objects(t, src.Store, "big", 2, big)
	small := objects(t, src.Store, "small", 4, 32<<10)
	r.queue("mixed", "L", large)
	r.start("w", nil)
	// The small files come once the parts stream at the cap (the idle
	// limiter's first burst spent).
	eventually(t, "the large files stream", func() bool { return src.read.Load() >= 1<<20 })
	r.queue("mixed", "S", small)
	before := src.read.Load()
	res := next(t, results, "result")
	during := src.read.Load() - before
	t.Logf("small files done while %d bytes of the large files were read", during)
	if res.TaskID != "S" || res.Counters.Copied != int64(len(small)) {
		t.Fatalf("first result: task %s %+v; want the small files' task S, all copied", res.TaskID, res.Counters)
	}
	if total := int64(len(large) * big); during >= total/2 {
		t.Fatalf("the small files took as long as %d of the large files' %d bytes; want less than half", during, total)
	}
	if res := next(t, results, "result"); res.TaskID != "L" || res.Counters.Copied != int64(len(large)) {
		t.Fatalf("second result: task %s %+v; want task L, all copied", res.TaskID, res.Counters)
	}
}

// latencyDest answers every Put after a fixed delay, as a distant store
// does: its throughput grows with the copies in flight.
type latencyDest struct {
	*memory.Store
	delay time.Duration
}

func (d latencyDest) Put(ctx context.Context, key string, r io.Reader, size int64, meta storage.Metadata) (storage.PutResult, error) {
	t := time.NewTimer(d.delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return storage.PutResult{}, ctx.Err()
	}
	return d.Store.Put(ctx, key, r, size, meta)
}

// TestAdaptiveThreadsGrowAgainstLatency: with workerTaskThreadAdaptive,
// a worker copying many small objects to a store that answers each Put
// after 40 ms starts with workerTaskThreadNum copies at once and takes
// more, since each step up pays, without going above four times it.
func TestAdaptiveThreadsGrowAgainstLatency(t *testing.T) {
	r := newRig(t, func(s *config.Sys) { s.WorkerTaskThreadNum, s.WorkerTaskThreadAdaptive = 8, true })
	src := memory.New("src")
	r.submit("latency_job", src, latencyDest{Store: memory.New("dst"), delay: 40 * time.Millisecond})
	for i := range 8 {
		r.queue("latency_job", fmt.Sprint("T", i), objects(t, src, fmt.Sprintf("k%d-", i), 400, 1))
	}
	w, _ := r.start("w1", nil)
	if got := worker.SlotLimit(w); got != 8 {
		t.Fatalf("an adaptive worker starts with %d copies at once, want workerTaskThreadNum=8", got)
	}
	testenv.Wait(t, time.Minute, "the worker to copy more than 8 objects at once", func() bool {
		return worker.SlotLimit(w) > 8
	}, func() string { return fmt.Sprintf("limit %d", worker.SlotLimit(w)) })
	if got := worker.SlotLimit(w); got > 32 {
		t.Fatalf("limit %d above four times workerTaskThreadNum=8", got)
	}
}
