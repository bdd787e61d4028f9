package transfer

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/ossimport/ossimport/internal/storage"
)

// AuditMode is how thoroughly jobType=audit compares (auditMode).
type AuditMode string

// The audit modes.
const (
	// AuditSimple compares sizes.
	AuditSimple AuditMode = "simple"
	// AuditGeneral also compares the source mtime recorded at upload and
	// the Content-Type.
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
	detail := fmt.Sprintf("size=%d", src.Size)
	if mode == AuditDetailed {
		sums, err := c.compareContent(ctx, obj, src, dst)
		if err != nil {
			return failure(AuditFailed, err)
		}
		detail += fmt.Sprintf(" crc64=%d", sums.CRC64)
	}
	return Result{Code: AuditOK, Size: src.Size, Detail: detail + " mode=" + string(mode)}
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
	rc, err := r.Open(ctx, key, 0, -1)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	sr := newSourceReader(ctx, rc, size, false, c.opts.Bandwidth, nil)
	if err := sr.drain(); err != nil {
		return 0, err
	}
	return sr.crc.Sum64(), nil
}
