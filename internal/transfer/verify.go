package transfer

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/ossimport/ossimport/internal/storage"
)

// The checks a verified object passed, strongest first, as
// Result.Check names them.
const (
	// CheckCRC64: the destination's CRC-64/ECMA (reported, or read back
	// and hashed) equals the source's.
	CheckCRC64 = "crc64"
	// CheckCRC32C: the CRC-32C the destination computed of what it
	// received (and checked against the one sent with the write, S3's
	// x-amz-checksum-crc32c) equals the source's; for an object uploaded
	// in parts, every part's did.
	CheckCRC32C = "crc32c"
	// CheckMD5: the content MD5 the destination reported equals the
	// source's.
	CheckMD5 = "md5"
	// CheckETag: the destination's ETag, a content MD5 (or an S3
	// multipart ETag made of the parts' MD5s), matches the source's bytes.
	CheckETag = "etag"
	// CheckSizeOnly: nothing but the size could be compared.
	CheckSizeOnly = "size-only"
)

// verify compares what was copied with what the destination reports and,
// when VerifyAfterCopy is set, with the destination read back: its size,
// its CRC-64 when it reports one and, when nothing better than the size
// was compared, its content hashed again. checked names a check the
// caller already passed ("" for none). The result names the strongest
// check passed.
func (c *Copier) verify(ctx context.Context, obj Object, size int64, sums storage.Checksums, put storage.PutResult, strategy, checked string) Result {
	check, err := checkSums(sums, put, c.dst.Capabilities())
	if err != nil {
		return failure(CheckFailed, fmt.Errorf("verify %q: %w", obj.Dst(), err))
	}
	check = stronger(check, checked)
	proof := proofPut
	switch {
	case check != "":
		// The write's own answer proves the object: the store accepted
		// exactly size bytes and reports checksums (or an ETag) of what
		// it stored that equal those of what we sent. Reading its
		// metadata back would prove nothing more, so isAuditAfterImport
		// costs no request here.
	case c.opts.VerifyAfterCopy:
		proof = proofHead
		info, err := c.dst.Stat(ctx, obj.Dst())
		if err != nil {
			return failure(CheckFailed, fmt.Errorf("get target meta of %q failed: %w", obj.Dst(), err))
		}
		if info.Size != size {
			return failure(CheckFailed, fmt.Errorf("verify %q: destination has %d bytes, source %d", obj.Dst(), info.Size, size))
		}
		if sums.HasCRC64 && info.Checksums.HasCRC64 {
			if info.Checksums.CRC64 != sums.CRC64 {
				return failure(CheckFailed, fmt.Errorf("verify %q: %w: destination CRC64 %d, source %d", obj.Dst(), storage.ErrChecksumMismatch, info.Checksums.CRC64, sums.CRC64))
			}
			check = CheckCRC64
		}
		if check == "" && (sums.HasCRC64 || sums.HasCRC32C || sums.MD5 != nil) {
			proof = proofReadBack
			// Nothing better than the size: read the copy back and hash it.
			if check, err = c.readBack(ctx, obj.Dst(), size, sums); err != nil {
				return failure(CheckFailed, fmt.Errorf("verify %q: %w", obj.Dst(), err))
			}
		}
	}
	if check == "" {
		check = CheckSizeOnly
	}
	return Result{Code: Succeed, Size: size, Checksums: sums, Strategy: strategy, Check: check, Detail: detail(size, sums, put, proof)}
}

// How a copy was verified, as the audit line's "verified=" says.
const (
	// proofPut: the write's answer (its CRC-64, MD5 or ETag) was compared.
	proofPut = "put"
	// proofHead: the destination's metadata was read back (a HEAD).
	proofHead = "head"
	// proofReadBack: the copy was read back and hashed.
	proofReadBack = "readback"
)

// stronger returns the stronger of two checks ("" is the weakest).
func stronger(a, b string) string {
	rank := func(c string) int {
		switch c {
		case CheckCRC64:
			return 5
		case CheckCRC32C:
			return 4
		case CheckMD5:
			return 3
		case CheckETag:
			return 2
		case CheckSizeOnly:
			return 1
		}
		return 0
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// checkSums compares locally computed checksums with the store's report
// and names the strongest that was compared ("" for none).
func checkSums(sums storage.Checksums, put storage.PutResult, caps storage.Capabilities) (string, error) {
	check := ""
	etag := strings.Trim(put.ETag, `"`)
	if sums.MD5 != nil && caps.ETagIsMD5 && len(etag) == 32 {
		if !strings.EqualFold(etag, hex.EncodeToString(sums.MD5)) {
			return "", fmt.Errorf("%w: destination ETag %s, source MD5 %x", storage.ErrChecksumMismatch, etag, sums.MD5)
		}
		check = CheckETag
	}
	if sums.MD5 != nil && put.Checksums.MD5 != nil {
		if !bytes.Equal(sums.MD5, put.Checksums.MD5) {
			return "", fmt.Errorf("%w: destination MD5 %x, source %x", storage.ErrChecksumMismatch, put.Checksums.MD5, sums.MD5)
		}
		check = CheckMD5
	}
	if sums.HasCRC64 && put.Checksums.HasCRC64 {
		if sums.CRC64 != put.Checksums.CRC64 {
			// The CRC-64 OSS computed of what it received is not ours:
			// damaged in transit, as the OSS SDK's own check (now off,
			// see storage.CheckedBody) reported it: copied again while
			// the retry budget lasts.
			return "", storage.Transient(fmt.Errorf("%w: destination CRC64 %d, source %d", storage.ErrChecksumMismatch, put.Checksums.CRC64, sums.CRC64))
		}
		check = CheckCRC64
	}
	if sums.HasCRC32C && put.Checksums.HasCRC32C && check != CheckCRC64 {
		if sums.CRC32C != put.Checksums.CRC32C {
			// The store checked the CRC-32C sent with the bytes it
			// received: a different one in its answer is damage on the
			// way back, or a store that does not check. Sent again.
			return "", storage.Transient(fmt.Errorf("%w: destination CRC32C %d, source %d", storage.ErrChecksumMismatch, put.Checksums.CRC32C, sums.CRC32C))
		}
		check = CheckCRC32C
	}
	return check, nil
}

func detail(size int64, sums storage.Checksums, put storage.PutResult, proof string) string {
	b := make([]byte, 0, 128)
	b = append(b, "size="...)
	b = strconv.AppendInt(b, size, 10)
	if sums.HasCRC64 {
		b = append(b, " crc64="...)
		b = strconv.AppendUint(b, sums.CRC64, 10)
	}
	if sums.HasCRC32C {
		b = append(b, " crc32c="...)
		b = strconv.AppendUint(b, uint64(sums.CRC32C), 10)
	}
	if sums.MD5 != nil {
		b = append(b, " md5="...)
		b = hex.AppendEncode(b, sums.MD5)
	}
	if etag := strings.Trim(put.ETag, `"`); etag != "" {
		b = append(b, " etag="...)
		b = append(b, etag...)
	}
	b = append(b, " verified="...)
	b = append(b, proof...)
	return string(b)
}

// readBack reads the copy at key and compares it with sums: its CRC-64
// when we have one, else its CRC-32C, else its MD5.
func (c *Copier) readBack(ctx context.Context, key string, size int64, sums storage.Checksums) (string, error) {
	crc32c := !sums.HasCRC64 && sums.HasCRC32C
	got, err := c.hashOf(ctx, c.dst, key, size, hashes{crc: sums.HasCRC64, crc32c: crc32c, md5: !sums.HasCRC64 && !crc32c})
	if err != nil {
		return "", fmt.Errorf("read it back: %w", err)
	}
	if crc32c {
		if got.CRC32C != sums.CRC32C {
			return "", fmt.Errorf("%w: destination read back has CRC32C %d, source %d", storage.ErrChecksumMismatch, got.CRC32C, sums.CRC32C)
		}
		return CheckCRC32C, nil
	}
	if sums.HasCRC64 {
		if got.CRC64 != sums.CRC64 {
			return "", fmt.Errorf("%w: destination read back has CRC64 %d, source %d", storage.ErrChecksumMismatch, got.CRC64, sums.CRC64)
		}
		return CheckCRC64, nil
	}
	if !bytes.Equal(got.MD5, sums.MD5) {
		return "", fmt.Errorf("%w: destination read back has MD5 %x, source %x", storage.ErrChecksumMismatch, got.MD5, sums.MD5)
	}
	return CheckMD5, nil
}
