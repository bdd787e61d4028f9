package transfer

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/ossimport/ossimport/internal/storage"
)

// verify compares what was copied with what the destination reports and,
// when VerifyAfterCopy is set, with the destination's size read back.
func (c *Copier) verify(ctx context.Context, obj Object, size int64, sums storage.Checksums, put storage.PutResult, strategy string) Result {
	if err := checkSums(sums, put, c.dst.Capabilities()); err != nil {
		return failure(CheckFailed, fmt.Errorf("verify %q: %w", obj.Dst(), err))
	}
	if c.opts.VerifyAfterCopy {
		info, err := c.dst.Stat(ctx, obj.Dst())
		if err != nil {
			return failure(CheckFailed, fmt.Errorf("get target meta of %q failed: %w", obj.Dst(), err))
		}
		if info.Size != size {
			return failure(CheckFailed, fmt.Errorf("verify %q: destination has %d bytes, source %d", obj.Dst(), info.Size, size))
		}
		if sums.HasCRC64 && info.Checksums.HasCRC64 && info.Checksums.CRC64 != sums.CRC64 {
			return failure(CheckFailed, fmt.Errorf("verify %q: %w: destination CRC64 %d, source %d", obj.Dst(), storage.ErrChecksumMismatch, info.Checksums.CRC64, sums.CRC64))
		}
	}
	return Result{Code: Succeed, Size: size, Checksums: sums, Strategy: strategy, Detail: detail(size, sums, put)}
}

// checkSums compares locally computed checksums with the store's report.
func checkSums(sums storage.Checksums, put storage.PutResult, caps storage.Capabilities) error {
	if sums.HasCRC64 && put.Checksums.HasCRC64 && sums.CRC64 != put.Checksums.CRC64 {
		return fmt.Errorf("%w: destination CRC64 %d, source %d", storage.ErrChecksumMismatch, put.Checksums.CRC64, sums.CRC64)
	}
	if sums.MD5 != nil && put.Checksums.MD5 != nil && !bytes.Equal(sums.MD5, put.Checksums.MD5) {
		return fmt.Errorf("%w: destination MD5 %x, source %x", storage.ErrChecksumMismatch, put.Checksums.MD5, sums.MD5)
	}
	etag := strings.Trim(put.ETag, `"`)
	if sums.MD5 != nil && caps.ETagIsMD5 && len(etag) == 32 && !strings.EqualFold(etag, hex.EncodeToString(sums.MD5)) {
		return fmt.Errorf("%w: destination ETag %s, source MD5 %x", storage.ErrChecksumMismatch, etag, sums.MD5)
	}
	return nil
}

func detail(size int64, sums storage.Checksums, put storage.PutResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "size=%d", size)
	if sums.HasCRC64 {
		fmt.Fprintf(&b, " crc64=%d", sums.CRC64)
	}
	if sums.MD5 != nil {
		fmt.Fprintf(&b, " md5=%x", sums.MD5)
	}
	if put.ETag != "" {
		fmt.Fprintf(&b, " etag=%s", strings.Trim(put.ETag, `"`))
	}
	return b.String()
}
