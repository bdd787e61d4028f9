package transfer

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ossimport/ossimport/internal/storage"
)

// AuditMode is how thoroughly jobType=audit compares (auditMode).
type AuditMode string

// The audit modes.
const (
	// AuditSimple compares sizes.
	AuditSimple AuditMode = "simple"
	// AuditGeneral also compares the source mtime recorded at upload, the
	// Content-Type and the checksums both stores report without a read
	// (CRC-64s, or single-part MD5 ETags).
	AuditGeneral AuditMode = "general"
	// AuditDetailed also compares the content's CRC-64, using the
	// destination's reported CRC when it has one and reading it otherwise.
	AuditDetailed AuditMode = "detailed"
)

// Audit verifies that the destination holds obj, copying nothing.
func (c *Copier) Audit(ctx context.Context, obj Object, mode AuditMode) Result {
	res := c.audit(ctx, obj, mode)
	res.Object = obj
	res.Attempts = 1
	return res
}

func (c *Copier) audit(ctx context.Context, obj Object, mode AuditMode) Result {
	if IsDirKey(obj.Key) {
		if res, done := c.dirMarker(ctx, obj); done {
			return res // a marker the job does not copy is not looked for
		}
	}
	src, err := c.src.Stat(ctx, obj.Key)
	if err != nil {
		return sourceFailure(fmt.Errorf("stat source %q: %w", obj.Key, err))
	}
	dst, err := c.dst.Stat(ctx, obj.Dst())
	if errors.Is(err, storage.ErrNotExist) {
		return failure(AuditFailed, fmt.Errorf("%q is missing at the destination", obj.Dst()))
	}
	if err != nil {
		return failure(AuditFailed, fmt.Errorf("get target meta of %q failed: %w", obj.Dst(), err))
	}
	if src.Size != dst.Size {
		return failure(AuditFailed, fmt.Errorf("size differs: source %d, destination %d", src.Size, dst.Size))
	}
	if mode == AuditGeneral || mode == AuditDetailed {
		if why := generalMismatch(src, dst); why != "" {
			return failure(AuditFailed, errors.New(why))
		}
	}
	detail, check := fmt.Sprintf("size=%d", src.Size), CheckSizeOnly
	if mode == AuditDetailed {
		sums, err := c.compareContent(ctx, obj, src, dst)
		if err != nil {
			return failure(AuditFailed, err)
		}
		detail += fmt.Sprintf(" crc64=%d", sums.CRC64)
		check = CheckCRC64
	} else if mode == AuditGeneral {
		// The checksum headers both stores report are compared for free.
		var err error
		if check, err = c.compareReported(src, dst); err != nil {
			return failure(AuditFailed, err)
		}
	}
	return Result{Code: AuditOK, Size: src.Size, Check: check, Detail: detail + " mode=" + string(mode)}
}

// compareReported compares the checksums both stores report without
// reading either object: CRC-64s, else content-MD5 ETags of single-part
// objects. It names the check, CheckSizeOnly when there was none.
func (c *Copier) compareReported(src, dst storage.ObjectInfo) (string, error) {
	if src.Checksums.HasCRC64 && dst.Checksums.HasCRC64 {
		if src.Checksums.CRC64 != dst.Checksums.CRC64 {
			return "", fmt.Errorf("%w: source CRC64 %d, destination %d", storage.ErrChecksumMismatch, src.Checksums.CRC64, dst.Checksums.CRC64)
		}
		return CheckCRC64, nil
	}
	if c.src.Capabilities().ETagIsMD5 && c.dst.Capabilities().ETagIsMD5 && isMD5(src.ETag) && isMD5(dst.ETag) {
		if !strings.EqualFold(src.ETag, dst.ETag) {
			return "", fmt.Errorf("%w: source ETag %s, destination %s", storage.ErrChecksumMismatch, src.ETag, dst.ETag)
		}
		return CheckETag, nil
	}
	return CheckSizeOnly, nil
}

// isMD5 reports whether an ETag is a content MD5 (32 hex digits).
func isMD5(etag string) bool {
	sum, err := hex.DecodeString(etag)
	return err == nil && len(sum) == 16
}

// generalMismatch compares what auditMode=general checks besides size.
func generalMismatch(src, dst storage.ObjectInfo) string {
	if recorded, ok := dst.Meta.User[storage.ModTimeMetaKey]; ok && !src.ModTime.IsZero() {
		if recorded != strconv.FormatInt(src.ModTime.Unix(), 10) {
			return fmt.Sprintf("source mtime %d, destination recorded %s", src.ModTime.Unix(), recorded)
		}
	}
	if src.Meta.ContentType != "" && dst.Meta.ContentType != "" && src.Meta.ContentType != dst.Meta.ContentType {
		return fmt.Sprintf("Content-Type differs: source %q, destination %q", src.Meta.ContentType, dst.Meta.ContentType)
	}
	return ""
}

// compareContent compares CRC-64s, reading the destination only when it
// does not report one.
func (c *Copier) compareContent(ctx context.Context, obj Object, src, dst storage.ObjectInfo) (storage.Checksums, error) {
	srcCRC, err := c.crcOf(ctx, c.src, obj.Key, src.Size)
	if err != nil {
		return storage.Checksums{}, fmt.Errorf("read source: %w", err)
	}
	dstCRC := dst.Checksums.CRC64
	if !dst.Checksums.HasCRC64 {
		if dstCRC, err = c.crcOf(ctx, c.dst, obj.Dst(), dst.Size); err != nil {
			return storage.Checksums{}, fmt.Errorf("read destination: %w", err)
		}
	}
	if srcCRC != dstCRC {
		return storage.Checksums{}, fmt.Errorf("%w: source CRC64 %d, destination %d", storage.ErrChecksumMismatch, srcCRC, dstCRC)
	}
	return storage.Checksums{CRC64: srcCRC, HasCRC64: true}, nil
}

func (c *Copier) crcOf(ctx context.Context, r storage.Reader, key string, size int64) (uint64, error) {
	sums, err := c.hashOf(ctx, r, key, size, hashes{crc: true})
	return sums.CRC64, err
}

// hashOf reads key of r whole and returns the checksums h asks for.
func (c *Copier) hashOf(ctx context.Context, r storage.Reader, key string, size int64, h hashes) (storage.Checksums, error) {
	rc, err := r.Open(ctx, key, 0, -1)
	if err != nil {
		return storage.Checksums{}, err
	}
	defer rc.Close()
	sr := newSourceReader(ctx, rc, size, h, c.opts.Bandwidth, nil)
	if err := sr.drain(); err != nil {
		return storage.Checksums{}, err
	}
	return sr.sums(), nil
}
