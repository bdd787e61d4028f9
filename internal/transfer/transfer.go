// Package transfer copies and verifies one object at a time from a source
// store to a destination store. It picks a single PUT, a multipart upload
// or a server-side copy, streams the bytes without staging them on disk
// (the parts of a source that reads ranges go straight from it into their
// uploads; only other sources need part buffers, from a Budget), hashes
// each byte once, with the checksum the destination can check (CRC-64/ECMA
// or MD5), compares it with what the destination reports, and classifies
// every failure with one of the closed set of result codes. A source file that changes while it is read is
// never stored as a mix of versions (see MaxRecopies), and a copy that
// lost its object to another worker stops writing (Options.Fence). It
// knows nothing about tasks, queues or processes.
package transfer

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ossimport/ossimport/internal/storage"
)

// Object is one object of a task, as the planner saw it.
type Object struct {
	Key     string    `json:"k"`           // source key
	DstKey  string    `json:"d,omitempty"` // destination key; "" means the same as Key
	Size    int64     `json:"s"`           // planned size; -1 when unknown (URL lists)
	ModTime time.Time `json:"m,omitzero"`  // planned source mtime; zero when unknown
	ETag    string    `json:"e,omitempty"` // planned source ETag, when the source has one
	// IsSymlink marks a local symbolic link to a file.
	IsSymlink bool `json:"l,omitempty"`
	// UploadID and PartSize resume a multipart upload started by an
	// earlier attempt (see Options.OnUploadStarted).
	UploadID string `json:"u,omitempty"`
	PartSize int64  `json:"p,omitempty"`
}

// Dst returns the destination key.
func (o Object) Dst() string {
	if o.DstKey == "" {
		return o.Key
	}
	return o.DstKey
}

// Limiter throttles bytes or requests; *rate.Limiter implements it.
type Limiter interface {
	WaitN(ctx context.Context, n int) error
	Burst() int
}

// Options configure a Copier.
type Options struct {
	// MultipartThreshold: objects larger than this use multipart upload
	// (multipartUploadThreshold).
	MultipartThreshold int64
	// PartSize is the multipart part size (multipartUploadPartSize); it
	// grows when an object would need more parts than the store allows.
	PartSize int64
	// PartConcurrency is the number of parts of one object in flight
	// (uploadThreadNumPerLargeFile).
	PartConcurrency int
	// SkipExisting skips objects the destination already holds with the
	// same size and source mtime (isSkipExistFile).
	SkipExisting bool
	// AllowSymlinks copies symbolic links to files (isAllowSymbolicLink);
	// otherwise they are reported as Skipped.
	AllowSymlinks bool
	// VerifyAfterCopy makes sure of each copy (isAuditAfterImport): when
	// the write's answer proved it (a CRC-64, MD5 or MD5 ETag equal to
	// ours) nothing more is asked; otherwise the destination's size and
	// CRC-64 are read back (a HEAD), and when it reports no checksum the
	// copy is read back and hashed. The result's Detail ends with
	// "verified=put", "head" or "readback". Checksums are compared
	// whenever the destination reports them, regardless.
	VerifyAfterCopy bool
	// RecordMD5 stores the content MD5 as user metadata "md5"
	// (workerRecordMd5), read from the source before the upload; it has
	// no effect on multipart uploads with PartConcurrency above 1.
	RecordMD5 bool
	// StorageClass and ServerSideEncryption are requested on every write.
	StorageClass         string
	ServerSideEncryption string
	// NoServerSideCopy disables server-side copy even where possible.
	NoServerSideCopy bool
	// DirMarkers says what happens to zero-byte keys ending in "/"
	// (directory markers); the default, DirMarkersAuto, copies them
	// between object stores and reports them Skipped otherwise. A "/" key
	// holding data is always copied like any other object.
	DirMarkers DirMarkerPolicy
	// Audit, when set (jobType=audit), makes RunAll verify objects in
	// this mode instead of copying them; objects modified after
	// AuditModifiedBefore (lastModify), when set, are skipped.
	Audit               AuditMode
	AuditModifiedBefore time.Time
	// RetryBudget is how long an object's transient failures
	// (storage.IsTransient) are retried, counted from its first one
	// (workerRetryBudget; default DefaultRetryBudget), so that an outage
	// of the destination or source shorter than it fails nothing. Waits
	// grow exponentially from RetryBase (default 500ms) up to RetryMax
	// (default 30s), each a random part of that (full jitter). Attempts,
	// when set, also caps how many times an object is tried in all; by
	// default only the budget bounds them. A cancelled context ends the
	// wait at once.
	RetryBudget time.Duration
	Attempts    int
	RetryBase   time.Duration
	RetryMax    time.Duration
	// OnRetry, when set, is told of each retry before its wait: the
	// attempt that failed, its error and the wait (for debug logs).
	OnRetry func(obj Object, attempt int, err error, wait time.Duration)
	// Bandwidth throttles bytes read from the source; Requests throttles
	// requests. Either may be nil.
	Bandwidth Limiter
	Requests  Limiter
	// OnUploadStarted is called when a multipart upload begins, so the
	// caller can persist the upload id with the task's progress and
	// resume it after a crash (Object.UploadID and PartSize).
	OnUploadStarted func(obj Object, uploadID string, partSize int64)
	// OnBytes is called as bytes are copied (for progress); it must be
	// cheap and safe for concurrent use.
	OnBytes func(n int64)
	// OnObjectBytes is OnBytes with the object the bytes belong to, for
	// progress per object. A retried or resumed object reads (some of)
	// its bytes again, so the sum for one object may exceed its size;
	// callers clamp it. Same rules as OnBytes.
	OnObjectBytes func(obj Object, n int64)
	// Fence, when set, is asked right before every write of obj to the
	// destination (a PUT, a server-side copy, the start, each part and
	// the completion of a multipart upload, an abort) whether this copy
	// still owns obj. An error wrapping ErrFenced gives the object up at
	// once: nothing more is written, and its multipart upload is left
	// alone (the new owner may be resuming it; Result.PendingUpload
	// names it). Other errors fail the write like a destination error
	// (retried when storage.IsTransient says so).
	Fence func(ctx context.Context, obj Object) error
	// Buffers is the budget of part buffers, which only sources that
	// cannot read a part again (no ranged reads) need: parts of other
	// sources stream straight from the source into their upload. Nil
	// means SharedBudget, one per process, so that buffer memory does not
	// multiply with the copiers or the files in flight.
	Buffers *Budget
}

// Validate checks the options and fills in defaults.
func (o *Options) Validate() error {
	switch {
	case o.MultipartThreshold <= 0:
		return errors.New("transfer options: MultipartThreshold must be positive")
	case o.PartSize <= 0:
		return errors.New("transfer options: PartSize must be positive")
	case o.PartConcurrency < 0 || o.Attempts < 0 || o.RetryBudget < 0:
		return errors.New("transfer options: PartConcurrency, Attempts and RetryBudget must not be negative")
	case o.DirMarkers != DirMarkersAuto && o.DirMarkers != DirMarkersCopy && o.DirMarkers != DirMarkersSkip:
		return fmt.Errorf("transfer options: DirMarkers %q is not one of copy, skip or empty (auto)", o.DirMarkers)
	}
	if o.PartConcurrency == 0 {
		o.PartConcurrency = 1
	}
	if o.RetryBudget == 0 {
		o.RetryBudget = DefaultRetryBudget
	}
	if o.RetryBase == 0 {
		o.RetryBase = 500 * time.Millisecond
	}
	if o.RetryMax == 0 {
		o.RetryMax = 30 * time.Second
	}
	return nil
}

// Copier copies objects from one source to one destination. It is safe for
// concurrent use; its part buffers are shared by all copies in flight.
type Copier struct {
	dst  storage.Destination
	src  storage.Source
	opts Options
	bufs *Budget
}

// New returns a Copier from src to dst.
func New(dst storage.Destination, src storage.Source, opts Options) (*Copier, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	bufs := opts.Buffers
	if bufs == nil {
		bufs = SharedBudget()
	}
	bufs.fit(opts.PartConcurrency, opts.PartSize)
	return &Copier{dst: dst, src: src, opts: opts, bufs: bufs}, nil
}

// Copy copies one object and verifies it. It never returns a success for
// an object that was not verifiably copied.
func (c *Copier) Copy(ctx context.Context, obj Object) Result {
	start := time.Now()
	res := c.copy(ctx, obj)
	res.Object = obj
	res.Duration = time.Since(start)
	return res
}

func (c *Copier) copy(ctx context.Context, obj Object) Result {
	if obj.IsSymlink && !c.opts.AllowSymlinks {
		return Result{Code: Skipped, Size: obj.Size, Detail: "symbolic link not copied (set isAllowSymbolicLink=true to copy links to files)"}
	}
	if IsDirKey(obj.Key) {
		if res, done := c.dirMarker(ctx, obj); done {
			return res
		}
	}
	if err := storage.CheckKey(c.dst, obj.Dst()); err != nil {
		return failure(InvalidName, err)
	}
	if c.opts.SkipExisting {
		if skip, why := c.exists(ctx, obj); skip {
			c.abandon(ctx, obj) // an upload of an earlier attempt is not needed
			return Result{Code: Skipped, Detail: why, Size: obj.Size}
		}
	}
	var res Result
	retry := c.retrier()
	recopies := 0
	for attempt := 1; ; attempt++ {
		res = c.copyOnce(ctx, obj)
		res.Attempts = attempt
		if res.changed && recopies < MaxRecopies && ctx.Err() == nil {
			// The source changed while it was read and nothing was
			// completed: copy the version it settled on.
			recopies++
			obj.UploadID, obj.PartSize = res.uploadID, res.partSize
			continue
		}
		if res.Code.OK() || !storage.IsTransient(res.Err) || !c.retryWait(ctx, retry, obj, attempt, res) {
			break
		}
		obj.UploadID, obj.PartSize = res.uploadID, res.partSize
	}
	if res.Code == SizeNotMatch && ctx.Err() == nil {
		if recopies > 0 {
			res.Detail += fmt.Sprintf(" (it changed while it was copied, %d times)", recopies)
		}
		res.Detail += "; " + c.destinationHolds(ctx, obj)
	}
	return res
}

// Sleep waits for d, or until ctx ends and then returns ctx.Err().
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// exists reports whether the destination already holds obj with the same
// size and source mtime.
func (c *Copier) exists(ctx context.Context, obj Object) (bool, string) {
	info, err := c.dst.Stat(ctx, obj.Dst())
	if err != nil || obj.Size < 0 || info.Size != obj.Size {
		return false, ""
	}
	if IsDirKey(obj.Key) && info.Size == 0 {
		// A marker has no content to differ, and stores often keep no
		// metadata on it (versitygw's posix backend makes it a folder).
		return true, "directory marker exists at the destination"
	}
	if obj.ModTime.IsZero() {
		return false, ""
	}
	if recorded, ok := info.Meta.User[storage.ModTimeMetaKey]; ok {
		if recorded == strconv.FormatInt(obj.ModTime.Unix(), 10) {
			return true, "exists at the destination with the same size and source mtime"
		}
		return false, ""
	}
	if c.dst.Capabilities().PreservesModTime && info.ModTime.Unix() == obj.ModTime.Unix() {
		return true, "exists at the destination with the same size and mtime"
	}
	return false, ""
}

// copyOnce makes one attempt with the right strategy.
func (c *Copier) copyOnce(ctx context.Context, obj Object) Result {
	info, err := c.statSource(ctx, obj)
	if err != nil {
		res := sourceFailure(err)
		if ctx.Err() != nil || storage.IsTransient(err) {
			res.uploadID, res.partSize = obj.UploadID, obj.PartSize // resumed by the next attempt
		} else {
			c.abandon(ctx, obj) // the source changed or went: the parts are of no use
		}
		return res
	}
	ver, err := c.sourceVersion(ctx, obj.Key)
	if err != nil {
		res := sourceFailure(err)
		res.uploadID, res.partSize = obj.UploadID, obj.PartSize
		return res
	}
	if ver == "" { // a file that may change while read is copied by us, checked at its end
		if res, ok := c.serverSideCopy(ctx, obj, info); ok {
			c.abandon(ctx, obj) // the object was copied, or will be, without it
			return res
		}
	}
	caps := c.dst.Capabilities()
	if _, ok := c.dst.(storage.MultipartWriter); ok && caps.Multipart && info.Size > c.opts.MultipartThreshold && c.src.Capabilities().RangedRead {
		return c.multipart(ctx, obj, info, ver)
	}
	if obj.UploadID != "" {
		// The object no longer needs multipart (smaller now): drop the old upload.
		c.abandon(ctx, obj)
	}
	return c.put(ctx, obj, info, ver)
}

// statSource checks the source object against the plan before copying.
func (c *Copier) statSource(ctx context.Context, obj Object) (storage.ObjectInfo, error) {
	info, err := c.src.Stat(ctx, obj.Key)
	if err != nil {
		return info, fmt.Errorf("stat source %q: %w", obj.Key, err)
	}
	if info.Restore {
		return info, fmt.Errorf("source %q: %w", obj.Key, storage.ErrNeedsRestore)
	}
	if changed := changedSince(obj, info); changed != "" {
		return info, &sizeMismatchError{key: obj.Key, what: changed}
	}
	return info, nil
}

// changedSince says how info differs from the plan, or "".
func changedSince(obj Object, info storage.ObjectInfo) string {
	switch {
	case obj.Size >= 0 && info.Size != obj.Size:
		return fmt.Sprintf("size %d at planning, %d now", obj.Size, info.Size)
	case !obj.ModTime.IsZero() && !info.ModTime.IsZero() && info.ModTime.Unix() != obj.ModTime.Unix():
		return fmt.Sprintf("mtime %s at planning, %s now", obj.ModTime.UTC().Format(time.RFC3339), info.ModTime.UTC().Format(time.RFC3339))
	}
	return ""
}

// sizeMismatchError means the source is not what was planned.
type sizeMismatchError struct{ key, what string }

func (e *sizeMismatchError) Error() string {
	return fmt.Sprintf("source %q changed: %s", e.key, e.what)
}

// serverSideCopy tries a copy inside the destination's service.
func (c *Copier) serverSideCopy(ctx context.Context, obj Object, info storage.ObjectInfo) (Result, bool) {
	ssc, ok := c.dst.(storage.ServerSideCopier)
	if !ok || c.opts.NoServerSideCopy || !c.dst.Capabilities().ServerSideCopy || c.opts.RecordMD5 {
		return Result{}, false
	}
	if info.Size == 0 && IsDirKey(obj.Key) {
		// A marker is one empty PUT either way, and some stores refuse to
		// copy onto a "/" key (versitygw: DirectoryObjectContainsData).
		return Result{}, false
	}
	if err := c.waitRequest(ctx); err != nil {
		return failure(UploadFailed, err), true
	}
	if err := c.fence(ctx, obj); err != nil {
		return failure(UploadFailed, err), true
	}
	// The copy is written like a streamed one: class, encryption,
	// metadata and the source-mtime marker skip-existing reads back.
	put, err := ssc.CopyFrom(ctx, obj.Dst(), c.src, obj.Key, info, c.metadata(obj, info, nil))
	if errors.Is(err, storage.ErrNotSupported) {
		return Result{}, false
	}
	if err != nil {
		return failure(UploadFailed, fmt.Errorf("server-side copy: %w", err)), true
	}
	res := c.verify(ctx, obj, info.Size, c.copySums(info), put, "server-side", "")
	return res, true
}

// copySums are the source's checksums a server-side copy is checked
// against: those the source reported, with a single-part MD5 ETag taken
// as the content MD5 when both stores' ETags are content MD5s.
func (c *Copier) copySums(info storage.ObjectInfo) storage.Checksums {
	sums := info.Checksums
	if sums.MD5 == nil && c.src.Capabilities().ETagIsMD5 && c.dst.Capabilities().ETagIsMD5 {
		if sum, err := hex.DecodeString(info.ETag); err == nil && len(sum) == 16 {
			sums.MD5 = sum
		}
	}
	return sums
}

func (c *Copier) waitRequest(ctx context.Context) error {
	if c.opts.Requests == nil {
		return nil
	}
	return c.opts.Requests.WaitN(ctx, 1)
}

// metadata builds what is written with the object.
func (c *Copier) metadata(obj Object, info storage.ObjectInfo, md5sum []byte) storage.Metadata {
	meta := info.Meta
	user := make(map[string]string, len(meta.User)+2)
	for k, v := range meta.User {
		user[k] = v
	}
	mtime := info.ModTime
	if mtime.IsZero() {
		mtime = obj.ModTime
	}
	if !mtime.IsZero() {
		user[storage.ModTimeMetaKey] = strconv.FormatInt(mtime.Unix(), 10)
	}
	if md5sum != nil {
		user["md5"] = hex.EncodeToString(md5sum)
	}
	meta.User = user
	if meta.ContentType == "" {
		meta.ContentType = contentType(obj.Key)
	}
	if c.opts.StorageClass != "" {
		meta.StorageClass = c.opts.StorageClass
	}
	if c.opts.ServerSideEncryption != "" {
		meta.ServerSideEncryption = c.opts.ServerSideEncryption
	}
	return meta
}

// failure builds a failed result.
func failure(code Code, err error) Result {
	return Result{Code: code, Err: err, Detail: err.Error()}
}

// sourceFailure classifies an error reading the source.
func sourceFailure(err error) Result {
	var sm *sizeMismatchError
	switch {
	case isChanged(err):
		return changedResult(err)
	case errors.As(err, &sm):
		return failure(SizeNotMatch, err)
	case errors.Is(err, storage.ErrNotExist):
		return failure(SourceNotFound, err)
	case errors.Is(err, storage.ErrNeedsRestore):
		return failure(NeedsRestore, err)
	case errors.Is(err, storage.ErrNotRegular):
		// A FIFO, socket or device at a local source: reported, not copied.
		return Result{Code: Skipped, Detail: err.Error() + " (special files are not copied)"}
	}
	return failure(DownloadFailed, err)
}

// hashes picks the checksums computed while copying, so that each byte
// is hashed once per checksum something compares: CRC-64 when the
// destination reports it (OSS); else CRC-32C when the destination
// checks and returns it (S3 with destChecksum=crc32c: in hardware, some
// twenty times cheaper than MD5); else MD5 when it reports one or its
// ETags are content MD5s (S3: MD5 costs about twice CRC-64, but a CRC-64
// nothing compares is wasted); else CRC-64, which the copy read back is
// compared with (VerifyAfterCopy) and which local destinations report.
func (c *Copier) hashes() hashes { return hashesFor(c.dst.Capabilities()) }

// hashesFor is hashes for a destination of capabilities caps.
func hashesFor(caps storage.Capabilities) hashes {
	switch {
	case caps.CRC64:
		return hashes{crc: true}
	case caps.CRC32C:
		return hashes{crc32c: true}
	case caps.MD5 || caps.ETagIsMD5:
		return hashes{md5: true}
	}
	return hashes{crc: true}
}

// Options returns the copier's options (with defaults filled in).
func (c *Copier) Options() Options { return c.opts }

// onBytes is the progress callback of the reads of obj, nil when
// nobody listens.
func (c *Copier) onBytes(obj Object) func(int64) {
	all, per := c.opts.OnBytes, c.opts.OnObjectBytes
	switch {
	case per == nil:
		return all
	case all == nil:
		return func(n int64) { per(obj, n) }
	}
	return func(n int64) { all(n); per(obj, n) }
}

// With returns a Copier sharing c's stores and buffers with options
// changed by edit (per-task callbacks, say).
func (c *Copier) With(edit func(*Options)) *Copier {
	cc := *c
	edit(&cc.opts)
	return &cc
}

// Changed reports whether the destination lacks info's object at dstKey
// or holds a different version (size or recorded source mtime), as
// incremental rescans need. Directory markers the job does not copy are
// never changed.
func (c *Copier) Changed(ctx context.Context, info storage.ObjectInfo, dstKey string) bool {
	if IsDirKey(info.Key) && info.Size == 0 && c.markerSkipReason() != "" {
		return false // reported Skipped by the full pass; nothing to copy
	}
	skip, _ := c.exists(ctx, Object{Key: info.Key, DstKey: dstKey, Size: info.Size, ModTime: info.ModTime})
	return !skip
}
