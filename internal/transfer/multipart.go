package transfer

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/ossimport/ossimport/internal/storage"
)

// multipart copies a large object in parts, PartConcurrency at a time,
// resuming obj.UploadID when an earlier attempt left one.
func (c *Copier) multipart(ctx context.Context, obj Object, info storage.ObjectInfo, ver string) Result {
	mpw := c.dst.(storage.MultipartWriter)
	partSize := c.partSize(info.Size)
	have, err := c.resumable(ctx, mpw, obj, partSize)
	if err != nil {
		// The upload may be fine: keep it for the next attempt.
		res := failure(UploadFailed, err)
		res.uploadID, res.partSize = obj.UploadID, obj.PartSize
		return res
	}
	uploadID := obj.UploadID
	if have == nil {
		var recorded []byte
		if c.opts.RecordMD5 && c.opts.PartConcurrency <= 1 {
			// workerRecordMd5, which has no effect on parts uploaded in
			// parallel (uploadThreadNumPerLargeFile > 1).
			var err error
			if recorded, err = c.sourceMD5(ctx, obj, info.Size); err != nil {
				return readFailure(err)
			}
		}
		if err := c.fence(ctx, obj); err != nil {
			return failure(UploadFailed, err)
		}
		id, err := mpw.CreateMultipart(ctx, obj.Dst(), c.metadata(obj, info, recorded))
		if err != nil {
			return failure(UploadFailed, fmt.Errorf("start multipart upload of %q: %w", obj.Dst(), err))
		}
		uploadID = id
		if c.opts.OnUploadStarted != nil {
			c.opts.OnUploadStarted(obj, uploadID, partSize)
		}
	}
	u := &upload{c: c, mpw: mpw, obj: obj, info: info, ver: ver, id: uploadID, size: info.Size, partSize: partSize, have: have}
	res := u.run(ctx)
	if !res.Code.OK() && ctx.Err() == nil && u.rangeRefused(res.Err) {
		// The source ignores ranged reads (an HTTP server answering 200
		// with the whole body): read it once, in order, into the same
		// upload; the parts stored so far are kept.
		u.have, u.sequential = u.stored(), true
		res = u.run(ctx)
	}
	if res.Code.OK() {
		return res // completed: nothing left to resume
	}
	res.uploadID, res.partSize = uploadID, partSize
	if ctx.Err() == nil && !storage.IsTransient(res.Err) && !errors.Is(res.Err, ErrFenced) {
		// Not worth resuming (and not a shutdown, after which the caller
		// resumes, nor a lost object, whose new owner may be resuming
		// it): free the parts already stored. A source that changed
		// while it was read lands here: its parts mix versions.
		if c.fence(ctx, obj) == nil {
			_ = mpw.AbortMultipart(context.WithoutCancel(ctx), obj.Dst(), uploadID)
			res.uploadID, res.partSize = "", 0
		}
	}
	return res
}

// partSize picks the part size for an object: the configured one, grown
// to fit the store's part count and floored at its minimum.
func (c *Copier) partSize(size int64) int64 {
	caps := c.dst.Capabilities()
	ps := c.opts.PartSize
	if caps.MaxParts > 0 {
		if need := (size + int64(caps.MaxParts) - 1) / int64(caps.MaxParts); need > ps {
			ps = need
		}
	}
	return max(ps, caps.MinPartSize)
}

// resumable returns the parts of obj's earlier upload, keyed by number,
// or nil when there is nothing to resume: no earlier upload, or one that
// cannot be resumed (gone at the destination, or of another part size),
// which is aborted. A transient failure to list the parts is returned,
// so that the upload is neither resumed nor abandoned by this attempt.
func (c *Copier) resumable(ctx context.Context, mpw storage.MultipartWriter, obj Object, partSize int64) (map[int]storage.Part, error) {
	if obj.UploadID == "" {
		return nil, nil
	}
	parts, err := mpw.ListParts(ctx, obj.Dst(), obj.UploadID)
	if err != nil && (ctx.Err() != nil || storage.IsTransient(err)) {
		return nil, fmt.Errorf("list the parts of the upload of %q: %w", obj.Dst(), err)
	}
	if err != nil || obj.PartSize != partSize {
		c.abandon(ctx, obj)
		return nil, nil
	}
	have := make(map[int]storage.Part, len(parts))
	for _, p := range parts {
		have[p.Number] = p
	}
	return have, nil
}

// abandon aborts an upload left by an earlier attempt, ignoring errors:
// the upload may be gone already.
func (c *Copier) abandon(ctx context.Context, obj Object) {
	if mpw, ok := c.dst.(storage.MultipartWriter); ok && obj.UploadID != "" && c.fence(ctx, obj) == nil {
		_ = mpw.AbortMultipart(ctx, obj.Dst(), obj.UploadID)
	}
}

// upload is one multipart upload in progress.
type upload struct {
	c        *Copier
	mpw      storage.MultipartWriter
	obj      Object
	info     storage.ObjectInfo // the source as it was when the copy started
	ver      string             // its version then (Copier.sourceVersion)
	id       string
	size     int64
	partSize int64
	have     map[int]storage.Part // parts stored by an earlier attempt

	// sequential reads the source in one stream from its start, part
	// after part, instead of one ranged read per part.
	sequential bool

	mu      sync.Mutex
	parts   []storage.Part
	sums    []partSum
	written int64
}

// partJob is one part to upload: streamed from its range by the
// uploader, or (buf set) already read from the sequential stream.
type partJob struct {
	i   int
	buf *[]byte
	sum partSum
}

// partSum is what we computed for one part.
type partSum struct {
	crc       uint64
	hasCRC    bool
	crc32c    uint32
	hasCRC32C bool
	md5       []byte
	// check names how the stored part was proven to hold these bytes
	// (CheckCRC64, ...), "" until it was.
	check string
}

func (u *upload) count() int { return int((u.size + u.partSize - 1) / u.partSize) }

func (u *upload) run(parent context.Context) Result {
	n := u.count()
	u.parts = make([]storage.Part, n)
	u.sums = make([]partSum, n)
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	next := make(chan partJob)
	var wg sync.WaitGroup
	for range min(u.c.opts.PartConcurrency, n) {
		wg.Go(func() {
			for j := range next {
				if err := u.part(ctx, j); err != nil {
					cancel(err)
				}
			}
		})
	}
	if u.sequential {
		if err := u.stream(ctx, next); err != nil {
			cancel(err)
		}
	} else {
		for i := 0; i < n && ctx.Err() == nil; i++ {
			next <- partJob{i: i}
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return u.classify(parent, err)
	}
	return u.complete(parent)
}

// partError marks which side of a part copy failed.
type partError struct {
	upload bool
	err    error
}

func (e *partError) Error() string { return e.err.Error() }
func (e *partError) Unwrap() error { return e.err }

func (u *upload) classify(ctx context.Context, err error) Result {
	var pe *partError
	if errors.As(err, &pe) && pe.upload {
		return failure(UploadFailed, err)
	}
	if res, changed := u.c.changedWhileCopying(ctx, u.obj, u.info); changed {
		return res
	}
	return readFailure(err)
}

// part uploads part j.i unless an earlier attempt stored the same
// bytes. A part of the sequential stream is sent from its buffer; any
// other streams from a ranged read of the source into its upload,
// hashed on the way, without a part-sized buffer, and is sent again
// from a new read when the upload fails in a way worth retrying.
func (u *upload) part(ctx context.Context, j partJob) error {
	off := int64(j.i) * u.partSize
	size := min(u.partSize, u.size-off)
	if j.buf != nil {
		if old, ok := u.have[j.i+1]; ok {
			if check := samePart(old, size, j.sum); check != "" {
				u.c.bufs.put(u.partSize, j.buf)
				u.record(j.i, old, j.sum, 0, check)
				return nil
			}
		}
		err := u.send(ctx, j.i, bytes.NewReader((*j.buf)[:size]), size, func() partSum { return j.sum }, nil)
		u.c.bufs.release(u.partSize, j.buf, err)
		return err
	}
	if old, ok := u.have[j.i+1]; ok {
		sum, err := u.hashRange(ctx, off, size)
		if err != nil {
			return &partError{err: err}
		}
		if check := samePart(old, size, sum); check != "" {
			u.record(j.i, old, sum, 0, check)
			return nil
		}
	}
	for attempt := 1; ; attempt++ {
		err := u.streamPart(ctx, j.i, off, size)
		var pe *partError
		if err == nil || attempt >= partAttempts || !errors.As(err, &pe) || !pe.upload ||
			!storage.IsTransient(err) || errors.Is(err, ErrFenced) || ctx.Err() != nil {
			return err
		}
		if Sleep(ctx, u.c.opts.RetryBase*time.Duration(attempt)) != nil {
			return err
		}
	}
}

// partAttempts is how many times a streamed part is sent before its
// failure fails the upload (the object is then retried, resuming it).
const partAttempts = 3

// streamPart sends part i, read from the source at off as it is sent.
func (u *upload) streamPart(ctx context.Context, i int, off, size int64) error {
	rc, err := u.c.src.Open(ctx, u.obj.Key, off, size)
	if err != nil {
		return &partError{err: fmt.Errorf("open source %q at %d: %w", u.obj.Key, off, err)}
	}
	defer rc.Close()
	sr := newSourceReader(ctx, rc, size, u.c.hashes(), u.c.opts.Bandwidth, u.c.onBytes(u.obj))
	// Ownership is checked again before the part's last byte is handed
	// over, so that a copy that slept through its task being handed on
	// while the part streamed fails the part and stores nothing.
	sr.ranged, sr.last = true, func() error { return u.c.fence(ctx, u.obj) }
	return u.send(ctx, i, checkedBody{sr}, size, sr.partSum, func() error {
		if sr.err != nil {
			return fmt.Errorf("read source %q at %d: %w", u.obj.Key, off, sr.err)
		}
		return nil
	})
}

// send uploads part i from body and checks the store's answer against
// the part's checksums, which sum gives once the body was read. readErr,
// when set, says whether reading the body failed (a read-side error
// comes before an upload error it caused).
func (u *upload) send(ctx context.Context, i int, body io.Reader, size int64, sum func() partSum, readErr func() error) error {
	if err := u.c.waitRequest(ctx); err != nil {
		return &partError{upload: true, err: err}
	}
	if err := u.c.fence(ctx, u.obj); err != nil {
		return &partError{upload: true, err: err}
	}
	p, err := u.mpw.UploadPart(ctx, u.obj.Dst(), u.id, i+1, body, size)
	if readErr != nil {
		if rerr := readErr(); rerr != nil {
			return &partError{upload: errors.Is(rerr, ErrFenced), err: rerr}
		}
	}
	if err != nil {
		return &partError{upload: true, err: fmt.Errorf("upload part %d of %q: %w", i+1, u.obj.Dst(), err)}
	}
	s := sum()
	check, err := checkPart(p, s, u.c.dst.Capabilities())
	if err != nil {
		// Damaged in transit: sent again (see part).
		return &partError{upload: true, err: storage.Transient(fmt.Errorf("upload part %d of %q: %w", i+1, u.obj.Dst(), err))}
	}
	u.record(i, p, s, size, check)
	return nil
}

// checkPart compares a stored part's reported checksums with ours: its
// CRC-64, else its CRC-32C, else its MD5, else its ETag when ETags are
// content MD5s. It names the check compared, "" for none.
func checkPart(p storage.Part, sum partSum, caps storage.Capabilities) (string, error) {
	switch {
	case p.Checksums.HasCRC64 && sum.hasCRC:
		if p.Checksums.CRC64 != sum.crc {
			return "", fmt.Errorf("%w: destination CRC64 %d, source %d", storage.ErrChecksumMismatch, p.Checksums.CRC64, sum.crc)
		}
		return CheckCRC64, nil
	case p.Checksums.HasCRC32C && sum.hasCRC32C:
		if p.Checksums.CRC32C != sum.crc32c {
			return "", fmt.Errorf("%w: destination CRC32C %d, source %d", storage.ErrChecksumMismatch, p.Checksums.CRC32C, sum.crc32c)
		}
		return CheckCRC32C, nil
	case p.Checksums.MD5 != nil && sum.md5 != nil:
		if !bytes.Equal(p.Checksums.MD5, sum.md5) {
			return "", fmt.Errorf("%w: destination MD5 %x, source %x", storage.ErrChecksumMismatch, p.Checksums.MD5, sum.md5)
		}
		return CheckMD5, nil
	case caps.ETagIsMD5 && sum.md5 != nil && isMD5(strings.Trim(p.ETag, `"`)):
		if etag := strings.Trim(p.ETag, `"`); !strings.EqualFold(etag, hex.EncodeToString(sum.md5)) {
			return "", fmt.Errorf("%w: destination ETag %s, source MD5 %x", storage.ErrChecksumMismatch, etag, sum.md5)
		}
		return CheckETag, nil
	}
	return "", nil
}

// hashRange reads size bytes of the source at off and returns their
// checksums, sending them nowhere: to compare with a part an earlier
// attempt stored.
func (u *upload) hashRange(ctx context.Context, off, size int64) (partSum, error) {
	rc, err := u.c.src.Open(ctx, u.obj.Key, off, size)
	if err != nil {
		return partSum{}, fmt.Errorf("open source %q at %d: %w", u.obj.Key, off, err)
	}
	defer rc.Close()
	h := u.c.hashes()
	if caps := u.c.dst.Capabilities(); caps.CRC32C && caps.ETagIsMD5 {
		// A part listed without its CRC-32C (S3 keeps part checksums
		// only for uploads created with an algorithm, which ours are
		// not) is compared by its ETag instead.
		h.md5 = true
	}
	sr := newSourceReader(ctx, rc, size, h, u.c.opts.Bandwidth, u.c.onBytes(u.obj))
	sr.ranged = true
	if err := sr.drain(); err != nil {
		return partSum{}, fmt.Errorf("read source %q at %d: %w", u.obj.Key, off, err)
	}
	return sr.partSum(), nil
}

// samePart reports whether a stored part holds the bytes we just read:
// it names the check that says so, "" when none does.
func samePart(p storage.Part, size int64, sum partSum) string {
	same := func(ok bool, check string) string {
		if ok {
			return check
		}
		return ""
	}
	switch {
	case p.Size != size:
		return ""
	case p.Checksums.HasCRC64 && sum.hasCRC:
		return same(p.Checksums.CRC64 == sum.crc, CheckCRC64)
	case p.Checksums.HasCRC32C && sum.hasCRC32C:
		return same(p.Checksums.CRC32C == sum.crc32c, CheckCRC32C)
	case sum.md5 == nil:
		return ""
	case p.Checksums.MD5 != nil:
		return same(bytes.Equal(p.Checksums.MD5, sum.md5), CheckMD5)
	}
	etag := strings.Trim(p.ETag, `"`)
	return same(len(etag) == 32 && strings.EqualFold(etag, hex.EncodeToString(sum.md5)), CheckETag)
}

func (u *upload) record(i int, p storage.Part, sum partSum, written int64, check string) {
	p.Number = i + 1
	sum.check = check
	u.mu.Lock()
	u.parts[i] = p
	u.sums[i] = sum
	u.written += written
	u.mu.Unlock()
}

// complete assembles the parts and verifies the whole object.
func (u *upload) complete(ctx context.Context) Result {
	if err := u.c.waitRequest(ctx); err != nil {
		return failure(UploadFailed, err)
	}
	// Every part was read: the source must still be the version the
	// first was read from, or the parts mix versions and the upload is
	// aborted rather than completed.
	if err := u.c.sameVersion(ctx, u.obj.Key, u.ver); err != nil {
		return sourceFailure(err)
	}
	if err := u.c.fence(ctx, u.obj); err != nil {
		return failure(UploadFailed, err)
	}
	put, err := u.mpw.CompleteMultipart(ctx, u.obj.Dst(), u.id, u.parts)
	if errors.Is(err, storage.ErrNotExist) {
		// The upload is gone: a delivery of the task that lost it
		// completed it in the moment before it learnt so (its last
		// fence check passed), or it was aborted. Nothing of it can be
		// trusted to be ours; the next attempt starts a new upload.
		err = storage.Transient(fmt.Errorf("the upload %s is gone (completed by another delivery of the task, or aborted): %w", u.id, err))
	}
	if err != nil {
		return failure(UploadFailed, fmt.Errorf("complete multipart upload of %q: %w", u.obj.Dst(), err))
	}
	sums := u.combined()
	checked, err := u.checkMultipartETag(put.ETag)
	if err != nil {
		return failure(CheckFailed, fmt.Errorf("verify %q: %w", u.obj.Dst(), err))
	}
	if checked == "" && u.c.dst.Capabilities().CRC32C {
		// The store checked every part's CRC-32C as it arrived and
		// returned it, and each was compared with ours, or a part
		// resumed was compared by its ETag (send, samePart); Complete
		// assembles the parts of those ETags. The object passed the
		// weakest of its parts' checks.
		checked = u.partsCheck()
	}
	res := u.c.verify(ctx, u.obj, u.size, sums, put, "multipart", checked)
	res.Bytes = u.written
	return res
}

// combined is the whole object's CRC-64 and CRC-32C from those of its
// parts read from the source, each when every part's was computed.
func (u *upload) combined() storage.Checksums {
	c := storage.Checksums{HasCRC64: true, HasCRC32C: len(u.sums) > 0}
	for i, s := range u.sums {
		size := u.parts[i].Size
		if c.HasCRC64 = c.HasCRC64 && s.hasCRC; c.HasCRC64 {
			c.CRC64 = crc64Combine(c.CRC64, s.crc, size)
		}
		if c.HasCRC32C = c.HasCRC32C && s.hasCRC32C; c.HasCRC32C {
			c.CRC32C = crc32cCombine(c.CRC32C, s.crc32c, size)
		}
	}
	if !c.HasCRC64 {
		c.CRC64 = 0
	}
	if !c.HasCRC32C {
		c.CRC32C = 0
	}
	return c
}

// partsCheck names the weakest check the parts passed, "" when a part
// passed none.
func (u *upload) partsCheck() string {
	weakest := ""
	for i, s := range u.sums {
		if s.check == "" {
			return ""
		}
		if i == 0 || stronger(weakest, s.check) == weakest {
			weakest = s.check
		}
	}
	return weakest
}

// checkMultipartETag checks an S3-style "<md5 of part md5s>-<parts>"
// ETag; it returns CheckETag when it was compared, "" when it could not be.
func (u *upload) checkMultipartETag(etag string) (string, error) {
	etag = strings.Trim(etag, `"`)
	want := fmt.Sprintf("-%d", len(u.parts))
	if !u.c.dst.Capabilities().ETagIsMD5 || u.c.dst.Capabilities().CRC64 || !strings.HasSuffix(etag, want) {
		return "", nil
	}
	all := md5.New()
	for _, s := range u.sums {
		if s.md5 == nil {
			return "", nil // a part resumed without reading its MD5
		}
		all.Write(s.md5)
	}
	if got := strings.TrimSuffix(etag, want); !strings.EqualFold(got, hex.EncodeToString(all.Sum(nil))) {
		return "", fmt.Errorf("%w: multipart ETag %s does not match the parts read from the source", storage.ErrChecksumMismatch, etag)
	}
	return CheckETag, nil
}

// contentType guesses a Content-Type from the key's extension.
func contentType(key string) string {
	if t := mime.TypeByExtension(strings.ToLower(path.Ext(key))); t != "" {
		return t
	}
	return "application/octet-stream"
}
