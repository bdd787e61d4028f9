package worker_test

import (
	"context"
	"io"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/storage/memory"
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
