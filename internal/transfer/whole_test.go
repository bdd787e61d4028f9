package transfer

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/memory"
)

// learningDest is a memory destination that learns, as an S3 store with
// destChecksum=auto does, whether its service checks the CRC-32C of a
// body read whole (Capabilities.KnownCRC32C, Unknown at first). With
// checks set the service returns the CRC-32C of what it received (flip
// xored in: a damaged answer); otherwise it returns none. Its ETags are
// content MD5s. It records the bodies it was given.
type learningDest struct {
	*memory.Store
	checks bool
	flip   uint32
	refuse bool         // every Put fails, after reading the body
	known  atomic.Int32 // a storage.Support
	bodies []string     // "whole <crc>" or "streamed", per Put
}

func newLearningDest(checks bool) *learningDest {
	d := &learningDest{Store: memory.New("d"), checks: checks}
	d.known.Store(int32(storage.Unknown))
	return d
}

func (d *learningDest) Capabilities() storage.Capabilities {
	c := d.Store.Capabilities()
	c.CRC64, c.MD5, c.ServerSideCopy, c.CRC32C = false, false, false, false
	c.KnownCRC32C = storage.Support(d.known.Load())
	return c
}

func (d *learningDest) Put(ctx context.Context, key string, r io.Reader, size int64, meta storage.Metadata) (storage.PutResult, error) {
	kb, whole := r.(storage.KnownCRC32CBody)
	if _, seeks := r.(io.Seeker); seeks {
		return storage.PutResult{}, errors.New("a body read whole must not seek (the S3 store would sign and hash it)")
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return storage.PutResult{}, err
	}
	if d.refuse {
		d.bodies = append(d.bodies, map[bool]string{true: "whole", false: "streamed"}[whole])
		return storage.PutResult{}, errors.New("access denied")
	}
	res, err := d.Store.Put(ctx, key, bytes.NewReader(data), size, meta)
	if err != nil {
		return res, err
	}
	sum := md5.Sum(data)
	res.ETag, res.Checksums = hex.EncodeToString(sum[:]), storage.Checksums{}
	if !whole {
		d.bodies = append(d.bodies, "streamed")
		return res, nil
	}
	d.bodies = append(d.bodies, "whole")
	if kb.KnownCRC32C() != crc32.Checksum(data, crc32cTable) {
		return storage.PutResult{}, errors.New("the body's known CRC-32C is not that of its bytes")
	}
	if d.checks {
		res.Checksums = storage.Checksums{CRC32C: crc32.Checksum(data, crc32cTable) ^ d.flip, HasCRC32C: true}
		d.known.CompareAndSwap(int32(storage.Unknown), int32(storage.Yes))
	} else {
		d.known.CompareAndSwap(int32(storage.Unknown), int32(storage.No))
	}
	return res, nil
}

// TestSmallObjectsReadWholeProveByCRC32C: to a store that may check the
// CRC-32C of a body read whole, a small object is read whole and sent
// with its CRC-32C. While the store does not know whether its service
// checks it, the MD5 is computed as well; a service that returns the
// CRC-32C proves each object by it (and the next is hashed with CRC-32C
// alone), one that does not by the ETag, and the next object streams as
// before. A damaged CRC-32C in the answer fails the copy; objects above
// wholeMax stream. Every buffer goes back to the budget, also after a
// failed write (without the buffer, which the request may still read).
func TestSmallObjectsReadWholeProveByCRC32C(t *testing.T) {
	tests := []struct {
		name      string
		checks    bool
		flip      uint32
		refuse    bool
		sizes     []int
		bodies    []string
		checksOut []string
		md5       []bool // an MD5 was computed
		want      Code
	}{
		{"service checks", true, 0, false, []int{1000, 64 << 10, wholeMax},
			[]string{"whole", "whole", "whole"}, []string{CheckCRC32C, CheckCRC32C, CheckCRC32C}, []bool{true, false, false}, Succeed},
		{"service ignores the header", false, 0, false, []int{1000, 64 << 10},
			[]string{"whole", "streamed"}, []string{CheckETag, CheckETag}, []bool{true, true}, Succeed},
		{"above wholeMax", true, 0, false, []int{wholeMax + 1},
			[]string{"streamed"}, []string{CheckETag}, []bool{true}, Succeed},
		{"damaged answer", true, 1, false, []int{1000}, []string{"whole"}, []string{""}, []bool{true}, CheckFailed},
		{"write refused", true, 0, true, []int{1000}, []string{"whole"}, []string{""}, []bool{true}, UploadFailed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := memory.New("s")
			dst := newLearningDest(tc.checks)
			dst.flip, dst.refuse = tc.flip, tc.refuse
			opts := testOptions()
			opts.Buffers = NewBudget(1 << 20)
			c := newCopier(t, dst, src, opts)
			for i, size := range tc.sizes {
				data := randomBytes(size, uint64(i+1))
				key := "k" + strings.Repeat("x", i)
				res := c.Copy(t.Context(), seed(t, src, key, data, time.Unix(1_700_000_000, 0)))
				if res.Code != tc.want || res.Check != tc.checksOut[i] {
					t.Fatalf("object %d: %s check %q (%s), want %s %q", i, res.Code, res.Check, res.Detail, tc.want, tc.checksOut[i])
				}
				if dst.bodies[i] != tc.bodies[i] {
					t.Errorf("object %d was sent %s, want %s", i, dst.bodies[i], tc.bodies[i])
				}
				if got := res.Checksums.MD5 != nil; res.Code == Succeed && got != tc.md5[i] {
					t.Errorf("object %d: MD5 computed %t, want %t", i, got, tc.md5[i])
				}
				if res.Code != Succeed {
					continue
				}
				if !bytes.Equal(readAll(t, dst, key), data) {
					t.Errorf("object %d: the destination differs from the source", i)
				}
			}
			wholes := int64(strings.Count(strings.Join(dst.bodies, " "), "whole"))
			if used, _, count := opts.Buffers.Stats(); used != 0 || count != wholes {
				t.Errorf("budget: %d bytes still in use, %d buffers handed out; want 0 and %d (one per body read whole)", used, count, wholes)
			}
		})
	}
}

// TestReadWholeRefusesALongerSource: a source with more bytes than its
// size is a source that changed: reading it whole fails.
func TestReadWholeRefusesALongerSource(t *testing.T) {
	for _, extra := range []int{0, 1} {
		data := randomBytes(5000+extra, 3)
		sr := newSourceReader(t.Context(), bytes.NewReader(data), 5000, hashes{crc32c: true}, nil, nil)
		body, err := readWhole(sr, make([]byte, 5000))
		if extra > 0 {
			if !errors.Is(err, errLongSource) {
				t.Errorf("a source %d bytes longer: %v, want errLongSource", extra, err)
			}
			continue
		}
		if err != nil || body.KnownCRC32C() != crc32.Checksum(data, crc32cTable) {
			t.Errorf("read whole: crc %08x, %v", body.KnownCRC32C(), err)
		}
	}
}

// TestWholeBuffersFitTheirObject: the buffer an object is read whole
// into holds it, at most twice over (4 KiB at least), up to wholeMax.
func TestWholeBuffersFitTheirObject(t *testing.T) {
	for _, size := range []int64{1, 4095, 4096, 4097, 65536, 65537, wholeMax - 1, wholeMax} {
		if n := wholeSize(size); n < size || n > max(2*size, 4096) || n > wholeMax {
			t.Errorf("size %d: buffer of %d bytes", size, n)
		}
	}
}
