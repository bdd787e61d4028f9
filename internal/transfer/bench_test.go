package transfer

import (
	"context"
	"hash/crc64"
	"io"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/memory"
)

// crcSink is a destination that keeps nothing and reports the CRC-64 of
// what it received, as OSS does: the copy path's own cost is measured.
type crcSink struct{ *memory.Store }

func (crcSink) Capabilities() storage.Capabilities {
	return storage.Capabilities{CanWrite: true, Multipart: true, MinPartSize: 1, MaxParts: 10000, CRC64: true, ETagIsMD5: true}
}

func (crcSink) Put(_ context.Context, _ string, r io.Reader, _ int64, _ storage.Metadata) (storage.PutResult, error) {
	h := crc64.New(crcTable)
	_, err := io.Copy(h, r)
	return storage.PutResult{Checksums: storage.Checksums{CRC64: h.Sum64(), HasCRC64: true}}, err
}

func (s crcSink) UploadPart(_ context.Context, _, _ string, n int, r io.Reader, size int64) (storage.Part, error) {
	h := crc64.New(crcTable)
	_, err := io.Copy(h, r)
	return storage.Part{Number: n, Size: size, Checksums: storage.Checksums{CRC64: h.Sum64(), HasCRC64: true}}, err
}

func (crcSink) CompleteMultipart(context.Context, string, string, []storage.Part) (storage.PutResult, error) {
	return storage.PutResult{}, nil
}

// BenchmarkCopy copies one 64 MiB object from memory to a CRC-reporting
// sink, by single PUT and by multipart.
func BenchmarkCopy(b *testing.B) {
	src := memory.New("bench")
	data := make([]byte, 64<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	obj := seed(b, src, "obj", data, time.Unix(1, 0))
	for _, tc := range []struct {
		name      string
		threshold int64
	}{{"put", 1 << 30}, {"multipart", 8 << 20}} {
		b.Run(tc.name, func(b *testing.B) {
			opts := Options{MultipartThreshold: tc.threshold, PartSize: 8 << 20, PartConcurrency: 1, NoServerSideCopy: true}
			c, err := New(crcSink{memory.New("sink")}, src, opts)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if res := c.Copy(context.Background(), obj); res.Code != Succeed {
					b.Fatal(res.Detail)
				}
			}
		})
	}
}
