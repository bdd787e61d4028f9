package transfer

import (
	"bytes"
	"io"
	"math/bits"

	"github.com/ossimport/ossimport/internal/storage"
)

// checkedBody is a streamed source read sent as a request body: the
// copier hashes it as it goes and compares the store's answer, so the
// store need not hash it again (storage.CheckedBody).
type checkedBody struct{ sr *sourceReader }

var _ storage.CRC32CBody = checkedBody{}

func (b checkedBody) Read(p []byte) (int, error) { return b.sr.Read(p) }

// CheckedByCaller marks the body as checked by the copier.
func (checkedBody) CheckedByCaller() {}

// SumCRC32C returns the CRC-32C of the bytes read so far, when the
// copier computes one (a destination that checks CRC-32Cs).
func (b checkedBody) SumCRC32C() (uint32, bool) {
	if b.sr.crc32c == nil {
		return 0, false
	}
	return b.sr.crc32c.Sum32(), true
}

// wholeMax is the largest object the copier reads whole before it sends
// it, to a store that takes the CRC-32C of such a body with the write
// (Capabilities.KnownCRC32C): one read of the source, one hash, and the
// store's answer proves the object. Its buffer comes from the Copier's
// Budget, with the part buffers (at most 60 × 256 KiB at the default
// workerTaskThreadNum).
const wholeMax = 256 << 10

// putHashes picks the checksums of an object of size bytes copied with
// one PUT, and whether it is read whole before it is sent (see
// wholeMax): to a store that may check a known CRC-32C, unless it reports
// better (CRC-64) or checks every body's CRC-32C anyway. Read whole, it
// is hashed with CRC-32C and, while the store does not know yet whether
// its service checks it, with the MD5 its ETag is compared with
// otherwise.
func (c *Copier) putHashes(size int64) (h hashes, whole bool) {
	caps := c.dst.Capabilities()
	if size > 0 && size <= wholeMax && caps.KnownCRC32C != storage.No && !caps.CRC64 && !caps.CRC32C {
		return hashes{crc32c: true, md5: caps.KnownCRC32C == storage.Unknown && (caps.MD5 || caps.ETagIsMD5)}, true
	}
	return hashesFor(caps), false
}

// wholeBody is an object read whole, with its CRC-32C
// (storage.KnownCRC32CBody). It does not seek: a store sends it once,
// and the copier sends it again if that fails.
type wholeBody struct {
	r   *bytes.Reader
	crc uint32
}

var _ storage.KnownCRC32CBody = wholeBody{}

func (b wholeBody) Read(p []byte) (int, error) { return b.r.Read(p) }

// CheckedByCaller marks the body as checked by the copier.
func (wholeBody) CheckedByCaller() {}

// KnownCRC32C returns the CRC-32C of the whole body.
func (b wholeBody) KnownCRC32C() uint32 { return b.crc }

// readWhole reads sr, which computes a CRC-32C, into buf, which is
// exactly as long as the object, and checks that the source has nothing
// more.
func readWhole(sr *sourceReader, buf []byte) (wholeBody, error) {
	if _, err := io.ReadFull(sr, buf); err != nil {
		return wholeBody{}, err
	}
	if _, err := sr.Read(nil); err != io.EOF {
		if err == nil {
			err = errLongSource
		}
		return wholeBody{}, err
	}
	return wholeBody{r: bytes.NewReader(buf), crc: sr.crc32c.Sum32()}, nil
}

// wholeSize is the size of the buffer an object of size bytes (1 to
// wholeMax) is read whole into: the next power of two from 4 KiB, so
// that the budget's free buffers are reused across objects.
func wholeSize(size int64) int64 { return 4096 << (max(bits.Len64(uint64(size-1)), 12) - 12) }
