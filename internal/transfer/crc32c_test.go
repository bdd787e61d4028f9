package transfer

import (
	"bytes"
	"context"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/local"
	"github.com/ossimport/ossimport/internal/storage/memory"
	"github.com/ossimport/ossimport/internal/storage/s3"
	"github.com/ossimport/ossimport/internal/testenv"
)

// crc32cDest is a memory destination that proves writes the way S3 does
// with destChecksum=crc32c: it reports the CRC-32C of what it stored for
// each object and part, and no CRC-64, MD5 or content-MD5 ETag. With
// corrupt set it stores (and reports the CRC-32C of) the last byte
// changed; with silent set it reports nothing, as a service that ignores
// the checksum sent would.
type crc32cDest struct {
	*memory.Store
	corrupt, silent bool
}

func (d *crc32cDest) Capabilities() storage.Capabilities {
	c := d.Store.Capabilities()
	c.CRC64, c.MD5, c.ETagIsMD5, c.ServerSideCopy, c.CRC32C = false, false, false, false, true
	return c
}

func (d *crc32cDest) received(r io.Reader) ([]byte, storage.Checksums, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, storage.Checksums{}, err
	}
	if d.corrupt && len(data) > 0 {
		data[len(data)-1] ^= 0xff
	}
	if d.silent {
		return data, storage.Checksums{}, nil
	}
	return data, storage.Checksums{CRC32C: crc32.Checksum(data, crc32cTable), HasCRC32C: true}, nil
}

func (d *crc32cDest) Put(ctx context.Context, key string, r io.Reader, size int64, meta storage.Metadata) (storage.PutResult, error) {
	data, sums, err := d.received(r)
	if err != nil {
		return storage.PutResult{}, err
	}
	res, err := d.Store.Put(ctx, key, bytes.NewReader(data), size, meta)
	res.Checksums, res.ETag = sums, "opaque"
	return res, err
}

func (d *crc32cDest) UploadPart(ctx context.Context, key, id string, n int, r io.Reader, size int64) (storage.Part, error) {
	data, sums, err := d.received(r)
	if err != nil {
		return storage.Part{}, err
	}
	p, err := d.Store.UploadPart(ctx, key, id, n, bytes.NewReader(data), size)
	p.Checksums, p.ETag = sums, "opaque"
	return p, err
}

func (d *crc32cDest) CompleteMultipart(ctx context.Context, key, id string, parts []storage.Part) (storage.PutResult, error) {
	res, err := d.Store.CompleteMultipart(ctx, key, id, parts)
	res.Checksums, res.ETag = storage.Checksums{}, "opaque-2"
	return res, err
}

func (d *crc32cDest) Stat(ctx context.Context, key string) (storage.ObjectInfo, error) {
	info, err := d.Store.Stat(ctx, key)
	info.Checksums, info.ETag = storage.Checksums{}, "opaque"
	return info, err
}

// TestCRC32CProvesWrites: against a destination that checks and returns
// CRC-32Cs, the copier hashes CRC-32C alone (no MD5), compares it with
// the store's for the object or for every part, records the object's
// CRC-32C (the parts' combined), fails a copy whose CRC-32C differs, and
// reads the copy back when the store returned none.
func TestCRC32CProvesWrites(t *testing.T) {
	tests := []struct {
		name            string
		size            int
		corrupt, silent bool
		verify          bool
		want            Code
		check           string
	}{
		{"put", 1000, false, false, false, Succeed, CheckCRC32C},
		{"multipart", 3<<20 + 17, false, false, false, Succeed, CheckCRC32C},
		{"put, damaged", 1000, true, false, false, CheckFailed, ""},
		{"multipart, damaged", 3 << 20, true, false, false, UploadFailed, ""},
		{"put, nothing returned, read back", 1000, false, true, true, Succeed, CheckCRC32C},
		{"put, nothing returned, size only", 1000, false, true, false, Succeed, CheckSizeOnly},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := memory.New("s")
			data := randomBytes(tc.size, 7)
			obj := seed(t, src, "k.bin", data, time.Unix(1_700_000_000, 0))
			opts := testOptions()
			opts.VerifyAfterCopy = tc.verify
			dst := &crc32cDest{Store: memory.New("d"), corrupt: tc.corrupt, silent: tc.silent}
			res := newCopier(t, dst, src, opts).Copy(t.Context(), obj)
			if res.Code != tc.want || res.Check != tc.check {
				t.Fatalf("copy = %s check %q (%s), want %s check %q", res.Code, res.Check, res.Detail, tc.want, tc.check)
			}
			if tc.want != Succeed {
				if !errors.Is(res.Err, storage.ErrChecksumMismatch) {
					t.Errorf("error %v, want a checksum mismatch", res.Err)
				}
				return
			}
			if res.Checksums.MD5 != nil || res.Checksums.HasCRC64 {
				t.Errorf("checksums %+v: only CRC-32C should have been computed", res.Checksums)
			}
			if want := crc32.Checksum(data, crc32cTable); !res.Checksums.HasCRC32C || res.Checksums.CRC32C != want {
				t.Errorf("CRC-32C %d (known %t), want %d", res.Checksums.CRC32C, res.Checksums.HasCRC32C, want)
			}
			rc, err := dst.Open(t.Context(), "k.bin", 0, -1)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("destination holds %d bytes (%v), not the source's %d", len(got), err, len(data))
			}
		})
	}
}

// multipartDest is a destination that uploads in parts.
type multipartDest interface {
	storage.Destination
	storage.MultipartWriter
}

// partCounter counts the parts uploaded through it.
type partCounter struct {
	multipartDest
	parts atomic.Int32
}

func (p *partCounter) UploadPart(ctx context.Context, key, id string, n int, r io.Reader, size int64) (storage.Part, error) {
	p.parts.Add(1)
	return p.multipartDest.UploadPart(ctx, key, id, n, r, size)
}

// TestCRC32CToVersityGW copies to a real S3 server (versitygw) with
// destChecksum=crc32c: a small object and one in parts are proven by
// the CRC-32C the server checked and returned, with no MD5 computed, and
// an upload resumed after a crash reuses the part stored before it
// (listed without a CRC-32C: compared by its ETag), so the object passed
// the weaker ETag check for that part.
func TestCRC32CToVersityGW(t *testing.T) {
	srv := testenv.VersityGW(t)
	dir := t.TempDir()
	big := randomBytes(12<<20+5, 11)
	small := big[:1000]
	for name, data := range map[string][]byte{"big.bin": big, "small.bin": small, "resumed.bin": big} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src, err := local.New(dir, local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s3dst, err := s3.New(t.Context(), s3.Config{Endpoint: srv.Endpoint, Region: srv.Region, Bucket: srv.CreateBucket(t, ""),
		AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, TrailingCRC32C: true})
	if err != nil {
		t.Fatal(err)
	}
	dst := &partCounter{multipartDest: s3dst}
	opts := Options{MultipartThreshold: 8 << 20, PartSize: 5 << 20, PartConcurrency: 2, VerifyAfterCopy: true,
		RetryBase: time.Millisecond, RetryMax: 5 * time.Millisecond, RetryBudget: time.Second}
	c := newCopier(t, dst, src, opts)
	object := func(key string) Object {
		info, err := src.Stat(t.Context(), key)
		if err != nil {
			t.Fatal(err)
		}
		return Object{Key: key, Size: info.Size, ModTime: info.ModTime}
	}

	// An upload a crash left with its first part stored.
	resumed := object("resumed.bin")
	id, err := s3dst.CreateMultipart(t.Context(), resumed.Dst(), storage.Metadata{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s3dst.UploadPart(t.Context(), resumed.Dst(), id, 1, bytes.NewReader(big[:5<<20]), 5<<20); err != nil {
		t.Fatal(err)
	}
	resumed.UploadID, resumed.PartSize = id, 5<<20

	for _, tc := range []struct {
		obj   Object
		data  []byte
		check string
		parts int32
	}{
		{object("small.bin"), small, CheckCRC32C, 0},
		{object("big.bin"), big, CheckCRC32C, 3},
		{resumed, big, CheckETag, 2},
	} {
		t.Run(tc.obj.Key, func(t *testing.T) {
			dst.parts.Store(0)
			res := c.Copy(t.Context(), tc.obj)
			if res.Code != Succeed || res.Check != tc.check {
				t.Fatalf("copy = %s check %q (%s), want Succeed %q", res.Code, res.Check, res.Detail, tc.check)
			}
			if got := dst.parts.Load(); got != tc.parts {
				t.Errorf("%d parts uploaded, want %d", got, tc.parts)
			}
			if res.Checksums.HasCRC64 || !res.Checksums.HasCRC32C || res.Checksums.CRC32C != crc32.Checksum(tc.data, crc32cTable) {
				t.Errorf("checksums %+v, want the CRC-32C of the source alone", res.Checksums)
			}
			if tc.check == CheckCRC32C && res.Checksums.MD5 != nil {
				t.Errorf("an MD5 was computed: %x", res.Checksums.MD5)
			}
			if !bytes.Equal(readAll(t, s3dst, tc.obj.Dst()), tc.data) {
				t.Error("the destination differs from the source")
			}
		})
	}
}
