package transfer

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/ossimport/ossimport/internal/storage/local"
	"github.com/ossimport/ossimport/internal/storage/s3"
	"github.com/ossimport/ossimport/internal/testenv"
)

// BenchmarkCopyToVersityGW copies local files to a real S3 server
// (versitygw on loopback) at the default job settings (50 MiB parts,
// 3 in flight, 150 MiB threshold, isAuditAfterImport on): one 256 MiB
// file, and 64 KiB files. For profiles of the copy path:
//
//	go test -run XXX -bench CopyToVersityGW -benchtime 3x \
//	    -cpuprofile cpu.out -memprofile mem.out ./internal/transfer
func BenchmarkCopyToVersityGW(b *testing.B) {
	srv := testenv.VersityGW(b)
	dir := b.TempDir()
	big := randomBytes(256<<20, 1)
	if err := os.WriteFile(filepath.Join(dir, "big.bin"), big, 0o644); err != nil {
		b.Fatal(err)
	}
	const small = 64
	for i := range small {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("s%03d", i)), big[i<<16:(i+1)<<16], 0o644); err != nil {
			b.Fatal(err)
		}
	}
	c, src := copierToVersityGW(b, srv, dir, Options{MultipartThreshold: 150 << 20, PartSize: 50 << 20, PartConcurrency: 3, VerifyAfterCopy: true})
	obj := func(key string) Object { return statObject(b, src, key) }
	b.Run("256MiB", func(b *testing.B) {
		o := obj("big.bin")
		b.SetBytes(o.Size)
		for b.Loop() {
			if res := c.Copy(b.Context(), o); res.Code != Succeed {
				b.Fatal(res.Detail)
			}
		}
	})
	b.Run("64KiB", func(b *testing.B) {
		objs := make([]Object, small)
		for i := range objs {
			objs[i] = obj(fmt.Sprintf("s%03d", i))
		}
		b.SetBytes(64 << 10)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if res := c.Copy(b.Context(), objs[i%small]); res.Code != Succeed {
				b.Fatal(res.Detail)
			}
			i++
		}
	})
}

// copierToVersityGW returns a copier from the local folder dir to a new
// bucket of srv, and its source.
func copierToVersityGW(b *testing.B, srv *testenv.S3Server, dir string, opts Options) (*Copier, *local.Store) {
	src, err := local.New(dir, local.Options{})
	if err != nil {
		b.Fatal(err)
	}
	dst, err := s3.New(b.Context(), s3.Config{Endpoint: srv.Endpoint, Region: srv.Region, Bucket: srv.CreateBucket(b, ""),
		AccessKey: srv.AccessKey, SecretKey: srv.SecretKey})
	if err != nil {
		b.Fatal(err)
	}
	c, err := New(dst, src, opts)
	if err != nil {
		b.Fatal(err)
	}
	return c, src
}

// statObject is the planned object of key at src.
func statObject(b *testing.B, src *local.Store, key string) Object {
	info, err := src.Stat(b.Context(), key)
	if err != nil {
		b.Fatal(err)
	}
	return Object{Key: key, Size: info.Size, ModTime: info.ModTime}
}
