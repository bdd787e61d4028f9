package transfer

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/memory"
)

// quietDest is a memory destination that reports what a plain store
// reports: an ETag that is (etagMD5) or is not a content MD5, and no
// CRC-64 or MD5. With corrupt set it stores the last byte changed while
// reporting success, as a faulty store might.
type quietDest struct {
	*memory.Store
	etagMD5 bool
	corrupt bool
}

func (q *quietDest) Capabilities() storage.Capabilities {
	c := q.Store.Capabilities()
	c.CRC64, c.MD5, c.ETagIsMD5, c.Multipart, c.ServerSideCopy = false, false, q.etagMD5, false, false
	return c
}

func (q *quietDest) Put(ctx context.Context, key string, r io.Reader, size int64, meta storage.Metadata) (storage.PutResult, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return storage.PutResult{}, err
	}
	if q.corrupt && len(data) > 0 {
		data[len(data)-1] ^= 0xff
	}
	res, err := q.Store.Put(ctx, key, strings.NewReader(string(data)), size, meta)
	res.Checksums = storage.Checksums{}
	if !q.etagMD5 {
		res.ETag = "opaque-etag"
	}
	return res, err
}

func (q *quietDest) Stat(ctx context.Context, key string) (storage.ObjectInfo, error) {
	info, err := q.Store.Stat(ctx, key)
	info.Checksums = storage.Checksums{}
	return info, err
}

// TestCheckNamesWhatWasCompared copies to destinations that report more
// or less and checks that each result names the check that passed, that
// size-only is reported as such, and that VerifyAfterCopy reads back and
// hashes when nothing better exists (catching a corrupted copy).
func TestCheckNamesWhatWasCompared(t *testing.T) {
	mtime := time.Unix(1_700_000_000, 0)
	tests := []struct {
		name    string
		dst     func() storage.Destination
		verify  bool
		size    int
		want    Code
		check   string
		auditIn string
	}{
		{"crc64 reported", func() storage.Destination { return memory.New("d") }, false, 1000, Succeed, CheckCRC64, ""},
		{"crc64 multipart", func() storage.Destination { return memory.New("d") }, false, 3 << 20, Succeed, CheckCRC64, ""},
		{"etag only", func() storage.Destination { return &quietDest{Store: memory.New("d"), etagMD5: true} }, false, 1000, Succeed, CheckETag, ""},
		{"nothing reported", func() storage.Destination { return &quietDest{Store: memory.New("d")} }, false, 1000, Succeed, CheckSizeOnly, ""},
		{"nothing reported, read back", func() storage.Destination { return &quietDest{Store: memory.New("d")} }, true, 1000, Succeed, CheckCRC64, ""},
		{"corrupted, size only", func() storage.Destination { return &quietDest{Store: memory.New("d"), corrupt: true} }, false, 1000, Succeed, CheckSizeOnly, ""},
		{"corrupted, read back", func() storage.Destination { return &quietDest{Store: memory.New("d"), corrupt: true} }, true, 1000, CheckFailed, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := memory.New("s")
			obj := seed(t, src, "k.bin", randomBytes(tc.size, 3), mtime)
			opts := testOptions()
			opts.VerifyAfterCopy = tc.verify
			res := newCopier(t, tc.dst(), src, opts).Copy(t.Context(), obj)
			if res.Code != tc.want || res.Check != tc.check {
				t.Fatalf("copy = %s check %q (%s), want %s check %q", res.Code, res.Check, res.Detail, tc.want, tc.check)
			}
		})
	}
}

// TestServerSideCopyCheck: a copy inside one store is checked against
// the source's reported CRC-64.
func TestServerSideCopyCheck(t *testing.T) {
	st := memory.New("one")
	obj := seed(t, st, "a", []byte("server-side"), time.Unix(5, 0))
	obj.DstKey = "b"
	opts := testOptions()
	opts.NoServerSideCopy = false
	res := newCopier(t, st, st, opts).Copy(t.Context(), obj)
	if res.Code != Succeed || res.Strategy != "server-side" || res.Check != CheckCRC64 {
		t.Fatalf("copy = %s via %q check %q, want Succeed server-side crc64", res.Code, res.Strategy, res.Check)
	}
}

// TestAuditCheck names the check of AuditOK results per mode.
func TestAuditCheck(t *testing.T) {
	src, dst := memory.New("s"), memory.New("d")
	obj := seed(t, src, "a", []byte("audited"), time.Unix(5, 0))
	if res := newCopier(t, dst, src, testOptions()).Copy(t.Context(), obj); res.Code != Succeed {
		t.Fatal(res.Detail)
	}
	c := newCopier(t, dst, src, testOptions())
	for mode, want := range map[AuditMode]string{AuditSimple: CheckSizeOnly, AuditGeneral: CheckCRC64, AuditDetailed: CheckCRC64} {
		if res := c.Audit(t.Context(), obj, mode); res.Code != AuditOK || res.Check != want {
			t.Errorf("audit (%s) = %s check %q, want AuditOK %q", mode, res.Code, res.Check, want)
		}
	}
	q := newCopier(t, &quietDest{Store: dst, etagMD5: true}, src, testOptions())
	if res := q.Audit(t.Context(), obj, AuditGeneral); res.Code != AuditOK || res.Check != CheckETag {
		t.Errorf("audit (general, no CRC at the destination) = %s check %q, want AuditOK etag", res.Code, res.Check)
	}
}
