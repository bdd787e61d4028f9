package transfer

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/memory"
)

// etagSink is a destination that keeps nothing and answers a PUT with
// the MD5 ETag of what it received, as S3 does.
type etagSink struct{ *memory.Store }

func (etagSink) Capabilities() storage.Capabilities {
	return storage.Capabilities{CanWrite: true, ETagIsMD5: true}
}

func (etagSink) Put(_ context.Context, _ string, r io.Reader, _ int64, _ storage.Metadata) (storage.PutResult, error) {
	h := md5.New()
	_, err := io.Copy(h, r)
	return storage.PutResult{ETag: hex.EncodeToString(h.Sum(nil))}, err
}

// sizeSink answers every Stat with a 64 KiB object (for the HEAD of
// isAuditAfterImport, where one is made).
type sizeSink struct{ storage.Destination }

func (sizeSink) Stat(_ context.Context, key string) (storage.ObjectInfo, error) {
	return storage.ObjectInfo{Key: key, Size: 64 << 10}, nil
}

// BenchmarkCopySmall copies 64 KiB objects with isAuditAfterImport on to
// destinations answering like S3 (MD5 ETag) and OSS (CRC-64): the copy
// path's own time and allocations per small object (-benchmem).
func BenchmarkCopySmall(b *testing.B) {
	src := memory.New("bench")
	const n = 64
	objs := make([]Object, n)
	for i := range objs {
		objs[i] = seed(b, src, fmt.Sprintf("dir/obj-%03d.dat", i), randomBytes(64<<10, uint64(i)), time.Unix(1_700_000_000, 0))
	}
	for _, tc := range []struct {
		name string
		dst  storage.Destination
	}{{"s3", sizeSink{etagSink{memory.New("sink")}}}, {"oss", sizeSink{crcSink{memory.New("sink")}}}} {
		b.Run(tc.name, func(b *testing.B) {
			opts := Options{MultipartThreshold: 1 << 30, PartSize: 8 << 20, VerifyAfterCopy: true, NoServerSideCopy: true}
			c, err := New(tc.dst, src, opts)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(64 << 10)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if res := c.Copy(context.Background(), objs[i%n]); res.Code != Succeed {
					b.Fatal(res.Detail)
				}
				i++
			}
		})
	}
}
