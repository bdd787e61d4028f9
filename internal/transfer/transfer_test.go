package transfer

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc64"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/memory"
	"github.com/ossimport/ossimport/internal/testenv"
)

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed+1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func testOptions() Options {
	return Options{MultipartThreshold: 1 << 20, PartSize: 256 << 10, PartConcurrency: 3, VerifyAfterCopy: true, RetryBase: time.Millisecond, RetryMax: 5 * time.Millisecond, RetryBudget: time.Second, NoServerSideCopy: true}
}

// seed puts data at key in st with an mtime.
func seed(t testing.TB, st *memory.Store, key string, data []byte, mtime time.Time) Object {
	t.Helper()
	meta := storage.Metadata{User: map[string]string{storage.ModTimeMetaKey: strconv.FormatInt(mtime.Unix(), 10)}}
	if _, err := st.Put(t.Context(), key, bytes.NewReader(data), int64(len(data)), meta); err != nil {
		t.Fatal(err)
	}
	info, err := st.Stat(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	return Object{Key: key, Size: info.Size, ModTime: info.ModTime}
}

func newCopier(t *testing.T, dst storage.Destination, src storage.Source, opts Options) *Copier {
	t.Helper()
	c, err := New(dst, src, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func readAll(t *testing.T, st storage.Reader, key string) []byte {
	t.Helper()
	rc, err := st.Open(t.Context(), key, 0, -1)
	if err != nil {
		t.Fatalf("open %q: %v", key, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestCopyStrategies(t *testing.T) {
	mtime := time.Unix(1_700_000_000, 0)
	tests := []struct {
		name     string
		size     int
		strategy string
	}{
		{"empty", 0, "put"},
		{"small", 1000, "put"},
		{"at threshold", 1 << 20, "put"},
		{"above threshold", 1<<20 + 1, "multipart"},
		{"many parts", 3<<20 + 12345, "multipart"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src, dst := memory.New("src"), memory.New("dst")
			data := randomBytes(tc.size, uint64(tc.size))
			obj := seed(t, src, "dir/obj.bin", data, mtime)
			obj.DstKey = "prefix/dir/obj.bin"
			res := newCopier(t, dst, src, testOptions()).Copy(t.Context(), obj)
			if res.Code != Succeed || res.Strategy != tc.strategy {
				t.Fatalf("result %s via %q (%s), want Succeed via %q", res.Code, res.Strategy, res.Detail, tc.strategy)
			}
			if got := readAll(t, dst, "prefix/dir/obj.bin"); !bytes.Equal(got, data) {
				t.Fatalf("destination differs from source (%d vs %d bytes)", len(got), len(data))
			}
			if want := crc64.Checksum(data, crcTable); res.Checksums.CRC64 != want {
				t.Errorf("result CRC64 %d, want %d", res.Checksums.CRC64, want)
			}
			info, _ := dst.Stat(t.Context(), "prefix/dir/obj.bin")
			if info.Meta.User[storage.ModTimeMetaKey] != "1700000000" {
				t.Errorf("source mtime not recorded: %v", info.Meta.User)
			}
			if info.Meta.ContentType != "application/octet-stream" {
				t.Errorf("content type %q", info.Meta.ContentType)
			}
		})
	}
}

func TestContentTypeFromExtension(t *testing.T) {
	src, dst := memory.New("src"), memory.New("dst")
	obj := seed(t, src, "photo.JPG", []byte("jpeg"), time.Unix(1, 0))
	if res := newCopier(t, dst, src, testOptions()).Copy(t.Context(), obj); res.Code != Succeed {
		t.Fatal(res.Detail)
	}
	if info, _ := dst.Stat(t.Context(), "photo.JPG"); info.Meta.ContentType != "image/jpeg" {
		t.Errorf("content type %q, want image/jpeg", info.Meta.ContentType)
	}
}

func TestSkipExisting(t *testing.T) {
	src, dst := memory.New("src"), memory.New("dst")
	obj := seed(t, src, "a", []byte("same"), time.Unix(1000, 0))
	opts := testOptions()
	opts.SkipExisting = true
	c := newCopier(t, dst, src, opts)
	if res := c.Copy(t.Context(), obj); res.Code != Succeed {
		t.Fatalf("first copy: %s %s", res.Code, res.Detail)
	}
	if res := c.Copy(t.Context(), obj); res.Code != Skipped {
		t.Fatalf("second copy: %s, want Skipped", res.Code)
	}
	// Same size, newer source mtime: copied again.
	obj2 := seed(t, src, "a", []byte("diff"), time.Unix(2000, 0))
	if res := c.Copy(t.Context(), obj2); res.Code != Succeed {
		t.Fatalf("changed mtime: %s, want Succeed", res.Code)
	}
}

func TestSymlinkPolicy(t *testing.T) {
	src, dst := memory.New("src"), memory.New("dst")
	obj := seed(t, src, "link", []byte("target"), time.Unix(1, 0))
	obj.IsSymlink = true
	if res := newCopier(t, dst, src, testOptions()).Copy(t.Context(), obj); res.Code != Skipped || !strings.Contains(res.Detail, "isAllowSymbolicLink") {
		t.Fatalf("symlink with default policy: %s %s", res.Code, res.Detail)
	}
	opts := testOptions()
	opts.AllowSymlinks = true
	if res := newCopier(t, dst, src, opts).Copy(t.Context(), obj); res.Code != Succeed {
		t.Fatalf("symlink allowed: %s %s", res.Code, res.Detail)
	}
}

func TestInvalidName(t *testing.T) {
	src, dst := memory.New("src"), memory.New("dst")
	obj := seed(t, src, "x", []byte("x"), time.Unix(1, 0))
	obj.DstKey = "/leading/slash"
	res := newCopier(t, dst, src, testOptions()).Copy(t.Context(), obj)
	if res.Code != InvalidName || !errors.Is(res.Err, storage.ErrInvalidKey) {
		t.Fatalf("got %s %v, want InvalidName", res.Code, res.Err)
	}
}

func TestSourceDeletedAfterPlanning(t *testing.T) {
	src, dst := memory.New("src"), memory.New("dst")
	obj := seed(t, src, "gone", []byte("x"), time.Unix(1, 0))
	_ = src.Delete(t.Context(), "gone")
	if res := newCopier(t, dst, src, testOptions()).Copy(t.Context(), obj); res.Code != SourceNotFound {
		t.Fatalf("got %s, want SourceNotFound", res.Code)
	}
}

func TestSourceChangedSincePlanning(t *testing.T) {
	src, dst := memory.New("src"), memory.New("dst")
	obj := seed(t, src, "f", []byte("old"), time.Unix(1, 0))
	seed(t, src, "f", []byte("new and longer"), time.Unix(2, 0))
	res := newCopier(t, dst, src, testOptions()).Copy(t.Context(), obj)
	if res.Code != SizeNotMatch {
		t.Fatalf("got %s %s, want SIZE_NOT_MATCH", res.Code, res.Detail)
	}
	if _, err := dst.Stat(t.Context(), "f"); !errors.Is(err, storage.ErrNotExist) {
		t.Fatalf("nothing should be written for a source that changed before the copy")
	}
}

// growingSource returns more bytes than Stat announced, as a file appended
// to while it is read.
type growingSource struct {
	*memory.Store
	extra []byte
}

func (g growingSource) Open(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	rc, err := g.Store.Open(ctx, key, off, n)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(io.MultiReader(rc, bytes.NewReader(g.extra))), nil
}

func TestSourceGrowsWhileStreaming(t *testing.T) {
	src, dst := memory.New("src"), memory.New("dst")
	obj := seed(t, src, "f", randomBytes(100, 3), time.Unix(1, 0))
	res := newCopier(t, dst, growingSource{src, []byte("appended")}, testOptions()).Copy(t.Context(), obj)
	if res.Code != SizeNotMatch {
		t.Fatalf("got %s %s, want SIZE_NOT_MATCH", res.Code, res.Detail)
	}
}

// rewrittenSource is a file system whose file is rewritten (new size and
// mtime) right after the copy starts reading it.
type rewrittenSource struct {
	*memory.Store
	done atomic.Bool
}

func (r *rewrittenSource) Capabilities() storage.Capabilities {
	c := r.Store.Capabilities()
	c.InPlaceUpdates = true
	return c
}

func (r *rewrittenSource) Open(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	rc, err := r.Store.Open(ctx, key, off, n)
	if err == nil && !r.done.Swap(true) {
		meta := storage.Metadata{User: map[string]string{storage.ModTimeMetaKey: "99"}}
		_, err = r.Store.Put(ctx, key, strings.NewReader("rewritten"), 9, meta)
	}
	return rc, err
}

func TestSourceRewrittenWhileCopying(t *testing.T) {
	for _, size := range []int{100, 3 << 20} {
		src, dst := memory.New("src"), memory.New("dst")
		obj := seed(t, src, "f", randomBytes(size, 3), time.Unix(1, 0))
		res := newCopier(t, dst, &rewrittenSource{Store: src}, testOptions()).Copy(t.Context(), obj)
		if res.Code != SizeNotMatch || !strings.Contains(res.Detail, "changed while it was copied") {
			t.Fatalf("size %d: got %s %s, want SIZE_NOT_MATCH", size, res.Code, res.Detail)
		}
	}
}

// flakyDest fails the first failures writes with a transient error.
type flakyDest struct {
	*memory.Store
	failures atomic.Int32
	puts     atomic.Int32
}

func (f *flakyDest) Put(ctx context.Context, key string, r io.Reader, size int64, meta storage.Metadata) (storage.PutResult, error) {
	f.puts.Add(1)
	if f.failures.Add(-1) >= 0 {
		_, _ = io.CopyN(io.Discard, r, size/2)
		return storage.PutResult{}, storage.Transient(errors.New("503 service unavailable"))
	}
	return f.Store.Put(ctx, key, r, size, meta)
}

func TestTransientErrorsAreRetried(t *testing.T) {
	src := memory.New("src")
	dst := &flakyDest{Store: memory.New("dst")}
	dst.failures.Store(2)
	data := randomBytes(5000, 4)
	obj := seed(t, src, "k", data, time.Unix(1, 0))
	res := newCopier(t, dst, src, testOptions()).Copy(t.Context(), obj)
	if res.Code != Succeed || res.Attempts != 3 {
		t.Fatalf("got %s after %d attempts (%s), want Succeed after 3", res.Code, res.Attempts, res.Detail)
	}
	if !bytes.Equal(readAll(t, dst, "k"), data) {
		t.Fatal("retried copy differs from the source")
	}
	dst.failures.Store(100)
	opts := testOptions()
	opts.Attempts = 4
	res = newCopier(t, dst, src, opts).Copy(t.Context(), obj)
	if res.Code != UploadFailed || res.Attempts != 4 {
		t.Fatalf("got %s after %d attempts, want UploadFailed after 4 (the Attempts cap)", res.Code, res.Attempts)
	}
}

// corruptDest reports a wrong CRC64 for every write, as a store would for
// data damaged in transit.
type corruptDest struct{ *memory.Store }

func (c corruptDest) Put(ctx context.Context, key string, r io.Reader, size int64, meta storage.Metadata) (storage.PutResult, error) {
	res, err := c.Store.Put(ctx, key, r, size, meta)
	res.Checksums.CRC64++
	return res, err
}

func TestChecksumMismatchIsAFailure(t *testing.T) {
	src := memory.New("src")
	obj := seed(t, src, "k", []byte("payload"), time.Unix(1, 0))
	res := newCopier(t, corruptDest{memory.New("dst")}, src, testOptions()).Copy(t.Context(), obj)
	if res.Code != CheckFailed || !errors.Is(res.Err, storage.ErrChecksumMismatch) {
		t.Fatalf("got %s %v, want CheckFailed with ErrChecksumMismatch", res.Code, res.Err)
	}
}

func TestRecordMD5(t *testing.T) {
	src, dst := memory.New("src"), memory.New("dst")
	obj := seed(t, src, "k", []byte("hello"), time.Unix(1, 0))
	opts := testOptions()
	opts.RecordMD5 = true
	if res := newCopier(t, dst, src, opts).Copy(t.Context(), obj); res.Code != Succeed {
		t.Fatal(res.Detail)
	}
	info, _ := dst.Stat(t.Context(), "k")
	if got := info.Meta.User["md5"]; got != "5d41402abc4b2a76b9719d911017c592" {
		t.Errorf("md5 metadata %q", got)
	}
}

// TestRecordMD5Multipart: a large file uploaded one part at a time
// records its MD5 too; parts uploaded in parallel record none (as
// documented for uploadThreadNumPerLargeFile).
func TestRecordMD5Multipart(t *testing.T) {
	src := memory.New("src")
	data := randomBytes(3<<20+7, 11)
	obj := seed(t, src, "big", data, time.Unix(1, 0))
	for _, tc := range []struct {
		parallel int
		want     string
	}{{1, fmt.Sprintf("%x", md5.Sum(data))}, {3, ""}} {
		dst := memory.New("dst")
		opts := testOptions()
		opts.RecordMD5, opts.PartConcurrency = true, tc.parallel
		if res := newCopier(t, dst, src, opts).Copy(t.Context(), obj); res.Code != Succeed || res.Strategy != "multipart" {
			t.Fatalf("%d in parallel: %s via %q (%s)", tc.parallel, res.Code, res.Strategy, res.Detail)
		}
		if info, _ := dst.Stat(t.Context(), "big"); info.Meta.User["md5"] != tc.want {
			t.Errorf("%d in parallel: md5 metadata %q, want %q", tc.parallel, info.Meta.User["md5"], tc.want)
		}
	}
}

// swappingSource serves other bytes of the same size from the second
// open on, as a file rewritten in place between two reads.
type swappingSource struct {
	*memory.Store
	opens atomic.Int32
	other []byte
}

func (s *swappingSource) Open(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	if s.opens.Add(1) > 1 {
		return io.NopCloser(bytes.NewReader(s.other)), nil
	}
	return s.Store.Open(ctx, key, off, n)
}

// TestRecordMD5DescribesTheStoredBytes: the MD5 recorded as metadata is
// the one the upload is checked against, so metadata that does not
// describe the stored bytes is a failure.
func TestRecordMD5DescribesTheStoredBytes(t *testing.T) {
	src := memory.New("src")
	obj := seed(t, src, "k", []byte("hello"), time.Unix(1, 0))
	opts := testOptions()
	opts.RecordMD5 = true
	res := newCopier(t, memory.New("dst"), &swappingSource{Store: src, other: []byte("HELLO")}, opts).Copy(t.Context(), obj)
	if res.Code != CheckFailed || !errors.Is(res.Err, storage.ErrChecksumMismatch) {
		t.Fatalf("got %s %v, want CheckFailed with ErrChecksumMismatch", res.Code, res.Err)
	}
	res = newCopier(t, memory.New("dst"), src, opts).Copy(t.Context(), obj)
	if want := md5.Sum([]byte("hello")); res.Code != Succeed || !bytes.Equal(res.Checksums.MD5, want[:]) {
		t.Fatalf("got %s with MD5 %x, want Succeed with %x", res.Code, res.Checksums.MD5, want)
	}
}

// countingDest counts part uploads and can stop the world after some.
type countingDest struct {
	*memory.Store
	parts    atomic.Int32
	stopAt   int32
	stopCopy context.CancelFunc
}

func (c *countingDest) UploadPart(ctx context.Context, key, id string, n int, r io.Reader, size int64) (storage.Part, error) {
	if c.stopAt > 0 && c.parts.Load() >= c.stopAt {
		c.stopCopy()
		return storage.Part{}, context.Canceled
	}
	c.parts.Add(1)
	return c.Store.UploadPart(ctx, key, id, n, r, size)
}

// interruptUpload copies obj from src to dst one part at a time and
// stops the copy once dst has stored stopAt parts, as a crash would. It
// returns obj with the upload to resume, and the options to resume it
// with; dst counts parts from zero again and no longer stops.
func interruptUpload(t *testing.T, dst *countingDest, src storage.Source, obj Object, stopAt int32) (Object, Options) {
	t.Helper()
	var saved Object
	opts := testOptions()
	opts.PartConcurrency = 1
	opts.OnUploadStarted = func(o Object, id string, ps int64) { saved = o; saved.UploadID, saved.PartSize = id, ps }
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	dst.stopAt, dst.stopCopy = stopAt, cancel
	if res := newCopier(t, dst, src, opts).Copy(ctx, obj); res.Code.OK() {
		t.Fatalf("interrupted copy reported %s", res.Code)
	}
	if saved.UploadID == "" || dst.parts.Load() != stopAt {
		t.Fatalf("upload id %q, %d parts uploaded before the crash; want an id and %d", saved.UploadID, dst.parts.Load(), stopAt)
	}
	dst.stopAt = 0
	dst.parts.Store(0)
	opts.OnUploadStarted = func(Object, string, int64) { t.Error("resume started a new upload") }
	return saved, opts
}

func TestMultipartResumesOnlyMissingParts(t *testing.T) {
	src := memory.New("src")
	dst := &countingDest{Store: memory.New("dst")}
	data := randomBytes(10*256<<10+77, 5) // 11 parts of 256 KiB
	obj := seed(t, src, "big", data, time.Unix(1, 0))
	saved, opts := interruptUpload(t, dst, src, obj, 3)

	res := newCopier(t, dst, src, opts).Copy(t.Context(), saved)
	if res.Code != Succeed {
		t.Fatalf("resumed copy: %s %s", res.Code, res.Detail)
	}
	if got := dst.parts.Load(); got != 8 {
		t.Errorf("resume uploaded %d parts, want the 8 missing ones", got)
	}
	if !bytes.Equal(readAll(t, dst, "big"), data) {
		t.Fatal("resumed object differs from the source")
	}
	if res.Bytes != int64(len(data))-3*256<<10 {
		t.Errorf("resume wrote %d bytes, want %d", res.Bytes, len(data)-3*256<<10)
	}
}

func TestMultipartResumeReuploadsChangedParts(t *testing.T) {
	src := memory.New("src")
	dst := &countingDest{Store: memory.New("dst")}
	data := randomBytes(5*256<<10, 6)
	obj := seed(t, src, "big", data, time.Unix(1, 0))
	saved, opts := interruptUpload(t, dst, src, obj, 2)

	// Part 1 stored on the destination no longer matches the source (same
	// size and mtime, different bytes): it must be uploaded again.
	changed := append([]byte(nil), data...)
	changed[10] ^= 0xff
	seed(t, src, "big", changed, time.Unix(1, 0))
	if res := newCopier(t, dst, src, opts).Copy(t.Context(), saved); res.Code != Succeed {
		t.Fatalf("resumed copy: %s %s", res.Code, res.Detail)
	}
	if got := dst.parts.Load(); got != 4 {
		t.Errorf("resume uploaded %d parts, want 4 (the changed part 1 and the missing 3, 4 and 5)", got)
	}
	if !bytes.Equal(readAll(t, dst, "big"), changed) {
		t.Fatal("resumed object differs from the source")
	}
}

func TestAudit(t *testing.T) {
	src, dst := memory.New("src"), memory.New("dst")
	good := seed(t, src, "good", []byte("same bytes"), time.Unix(10, 0))
	c := newCopier(t, dst, src, testOptions())
	if res := c.Copy(t.Context(), good); res.Code != Succeed {
		t.Fatal(res.Detail)
	}
	missing := seed(t, src, "missing", []byte("x"), time.Unix(10, 0))
	// Same size, different bytes: simple mode (size only) does not see
	// it; general compares the CRC-64s both stores report.
	tampered := seed(t, src, "tampered", []byte("AAAA"), time.Unix(10, 0))
	seed(t, dst, "tampered", []byte("BBBB"), time.Unix(10, 0))
	tests := []struct {
		obj  Object
		mode AuditMode
		want Code
	}{
		{good, AuditSimple, AuditOK},
		{good, AuditGeneral, AuditOK},
		{good, AuditDetailed, AuditOK},
		{missing, AuditSimple, AuditFailed},
		{tampered, AuditSimple, AuditOK},
		{tampered, AuditGeneral, AuditFailed},
		{tampered, AuditDetailed, AuditFailed},
	}
	for _, tc := range tests {
		if res := c.Audit(t.Context(), tc.obj, tc.mode); res.Code != tc.want {
			t.Errorf("audit %s (%s): %s %s, want %s", tc.obj.Key, tc.mode, res.Code, res.Detail, tc.want)
		}
	}
	if got, err := dst.Stat(t.Context(), "missing"); err == nil {
		t.Fatalf("audit copied %v", got.Key)
	}
}

func TestRunAllSharesSlots(t *testing.T) {
	src, dst := memory.New("src"), memory.New("dst")
	var objs []Object
	for i := range 50 {
		objs = append(objs, seed(t, src, strconv.Itoa(i), randomBytes(100, uint64(i)), time.Unix(1, 0)))
	}
	c := newCopier(t, dst, src, testOptions())
	slots := NewSlots(4)
	var got []Code
	c.RunAll(t.Context(), slots, objs, func(r Result) { got = append(got, r.Code) })
	if len(got) != 50 || slots.InUse() != 0 {
		t.Fatalf("%d results, %d slots still held", len(got), slots.InUse())
	}
	for _, code := range got {
		if code != Succeed {
			t.Fatalf("result %s", code)
		}
	}
}

func TestObjectJSONKeepsRawKeyBytes(t *testing.T) {
	for _, obj := range []Object{
		{Key: "plain/ascii", Size: 1},
		{Key: "中文/文件", DstKey: "p/中文/文件", Size: 2, ModTime: time.Unix(5, 0).UTC()},
		{Key: "latin1-\xe9t\xe9", DstKey: "p/latin1-\xe9t\xe9", Size: 3},
	} {
		data, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		var back Object
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatal(err)
		}
		if back != obj {
			t.Errorf("round trip of %q gave %q (%s)", obj.Key, back.Key, data)
		}
	}
}

// countingLimiter records what the copy asked it for.
type countingLimiter struct{ calls, units atomic.Int64 }

func (l *countingLimiter) WaitN(_ context.Context, n int) error {
	l.calls.Add(1)
	l.units.Add(int64(n))
	return nil
}
func (l *countingLimiter) Burst() int { return 64 << 10 }

func TestThrottlesBytesAndRequests(t *testing.T) {
	src, dst := memory.New("src"), memory.New("dst")
	small := seed(t, src, "small", randomBytes(200_000, 8), time.Unix(1, 0))
	big := seed(t, src, "big", randomBytes(3<<20, 9), time.Unix(1, 0))
	bytesL, reqL := &countingLimiter{}, &countingLimiter{}
	opts := testOptions()
	opts.Bandwidth, opts.Requests = bytesL, reqL
	c := newCopier(t, dst, src, opts)
	for _, o := range []Object{small, big} {
		if res := c.Copy(t.Context(), o); res.Code != Succeed {
			t.Fatal(res.Detail)
		}
	}
	if got, want := bytesL.units.Load(), small.Size+big.Size; got != want {
		t.Errorf("bandwidth limiter saw %d bytes, want %d", got, want)
	}
	// One put, then 12 parts of 256 KiB and the completion.
	if got := reqL.units.Load(); got != 1+12+1 {
		t.Errorf("request limiter saw %d requests, want 14", got)
	}
	if bytesL.calls.Load() < (small.Size+big.Size)/(64<<10) {
		t.Errorf("reads were not split to the limiter's burst: %d calls", bytesL.calls.Load())
	}
}

// md5Dest is an S3-like destination: no CRC-64, MD5 ETags, multipart
// ETags "<md5 of the parts' md5s>-<parts>". wrong makes it report a
// multipart ETag that does not match the parts.
type md5Dest struct {
	*memory.Store
	wrong bool
}

func (d md5Dest) Capabilities() storage.Capabilities {
	c := d.Store.Capabilities()
	c.CRC64, c.MD5, c.ServerSideCopy = false, false, false
	return c
}

func (d md5Dest) UploadPart(ctx context.Context, key, id string, n int, r io.Reader, size int64) (storage.Part, error) {
	p, err := d.Store.UploadPart(ctx, key, id, n, r, size)
	p.Checksums = storage.Checksums{}
	return p, err
}

func (d md5Dest) CompleteMultipart(ctx context.Context, key, id string, parts []storage.Part) (storage.PutResult, error) {
	all := md5.New()
	for _, p := range parts {
		sum, _ := hex.DecodeString(p.ETag)
		if d.wrong {
			sum[0] ^= 1
		}
		all.Write(sum)
	}
	if _, err := d.Store.CompleteMultipart(ctx, key, id, parts); err != nil {
		return storage.PutResult{}, err
	}
	return storage.PutResult{ETag: fmt.Sprintf(`"%x-%d"`, all.Sum(nil), len(parts))}, nil
}

// TestMultipartETagChecked: a destination without CRC-64 is checked
// against the MD5s of the parts as they were read from the source.
func TestMultipartETagChecked(t *testing.T) {
	src := memory.New("src")
	obj := seed(t, src, "big", randomBytes(3<<20+5, 10), time.Unix(1, 0))
	res := newCopier(t, md5Dest{Store: memory.New("dst")}, src, testOptions()).Copy(t.Context(), obj)
	if res.Code != Succeed || res.Strategy != "multipart" {
		t.Fatalf("got %s via %q (%s), want Succeed via multipart", res.Code, res.Strategy, res.Detail)
	}
	res = newCopier(t, md5Dest{Store: memory.New("dst"), wrong: true}, src, testOptions()).Copy(t.Context(), obj)
	if res.Code != CheckFailed || !errors.Is(res.Err, storage.ErrChecksumMismatch) {
		t.Fatalf("got %s %v, want CheckFailed with ErrChecksumMismatch", res.Code, res.Err)
	}
}

func TestSleep(t *testing.T) {
	if err := Sleep(t.Context(), 0); err != nil {
		t.Errorf("Sleep(0) = %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	start := time.Now()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) || time.Since(start) > time.Second {
		t.Errorf("Sleep on a cancelled context = %v after %s, want context.Canceled at once", err, time.Since(start))
	}
}

// TestRunAllAudits: with Options.Audit, RunAll verifies and never
// copies, and skips objects modified after AuditModifiedBefore.
func TestRunAllAudits(t *testing.T) {
	src, dst := memory.New("src"), memory.New("dst")
	same := seed(t, src, "same", []byte("same"), time.Unix(10, 0))
	seed(t, dst, "same", []byte("same"), time.Unix(10, 0))
	missing := seed(t, src, "missing", []byte("x"), time.Unix(10, 0))
	later := seed(t, src, "later", []byte("y"), time.Unix(100, 0))
	opts := testOptions()
	opts.Audit, opts.AuditModifiedBefore = AuditGeneral, time.Unix(50, 0)
	got := map[string]Code{}
	newCopier(t, dst, src, opts).RunAll(t.Context(), NewSlots(2), []Object{same, missing, later}, func(r Result) { got[r.Object.Key] = r.Code })
	if want := map[string]Code{"same": AuditOK, "missing": AuditFailed, "later": Skipped}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("results %v, want %v", got, want)
	}
	for _, key := range []string{"missing", "later"} {
		if _, err := dst.Stat(t.Context(), key); !errors.Is(err, storage.ErrNotExist) {
			t.Errorf("audit wrote %q to the destination (%v)", key, err)
		}
	}
}

// rivalDest completes each upload once on behalf of another delivery of
// the task (one that lost the task as it sent its last fence check)
// before the copier's own completion, which then finds the upload gone.
type rivalDest struct {
	*memory.Store
	rivals atomic.Int32
}

func (d *rivalDest) CompleteMultipart(ctx context.Context, key, id string, parts []storage.Part) (storage.PutResult, error) {
	if d.rivals.Add(1) == 1 {
		if _, err := d.Store.CompleteMultipart(ctx, key, id, parts); err != nil {
			return storage.PutResult{}, err
		}
	}
	return d.Store.CompleteMultipart(ctx, key, id, parts)
}

// TestUploadGoneAtCompletionStartsOver: an upload completed by another
// delivery (or aborted) in the moment before this copy completes it is
// not a failure of the object: the copy starts a new upload, and the
// object is written and verified by this copy.
func TestUploadGoneAtCompletionStartsOver(t *testing.T) {
	src := memory.New("src")
	dst := &rivalDest{Store: memory.New("dst")}
	data := randomBytes(5*256<<10+9, 12)
	obj := seed(t, src, "big", data, time.Unix(1, 0))
	var started atomic.Int32
	opts := testOptions()
	opts.OnUploadStarted = func(Object, string, int64) { started.Add(1) }
	res := newCopier(t, dst, src, opts).Copy(t.Context(), obj)
	if res.Code != Succeed || res.Strategy != "multipart" {
		t.Fatalf("got %s via %q (%s), want Succeed via multipart", res.Code, res.Strategy, res.Detail)
	}
	if res.Attempts != 2 || started.Load() != 2 {
		t.Errorf("%d attempts, %d uploads started; want the second attempt on a new upload", res.Attempts, started.Load())
	}
	if !bytes.Equal(readAll(t, dst, "big"), data) {
		t.Fatal("the object differs from the source")
	}
	if id, _ := res.PendingUpload(); id != "" {
		t.Errorf("upload %s left pending", id)
	}
}

// heldDest holds every Put until the test releases one, counting the
// Puts in flight and the most there were at once.
type heldDest struct {
	*memory.Store
	release  chan struct{}
	mu       sync.Mutex
	inFlight int
	most     int
	entered  int
}

func (d *heldDest) Put(ctx context.Context, key string, r io.Reader, size int64, meta storage.Metadata) (storage.PutResult, error) {
	d.mu.Lock()
	d.inFlight++
	d.entered++
	d.most = max(d.most, d.inFlight)
	d.mu.Unlock()
	defer func() { d.mu.Lock(); d.inFlight--; d.mu.Unlock() }()
	select {
	case <-d.release:
	case <-ctx.Done():
		return storage.PutResult{}, ctx.Err()
	}
	return d.Store.Put(ctx, key, r, size, meta)
}

func (d *heldDest) counts() (inFlight, most, entered int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.inFlight, d.most, d.entered
}

// TestSlotsLimitMoves: copies start only while fewer than the slots'
// limit are in flight; raising the limit starts more at once, lowering
// it lets the copies in flight finish and starts new ones only below
// the new limit.
func TestSlotsLimitMoves(t *testing.T) {
	src := memory.New("src")
	dst := &heldDest{Store: memory.New("dst"), release: make(chan struct{})}
	var objs []Object
	for i := range 12 {
		objs = append(objs, seed(t, src, strconv.Itoa(i), randomBytes(10, uint64(i)), time.Unix(1, 0)))
	}
	opts := testOptions()
	opts.VerifyAfterCopy = false
	c := newCopier(t, dst, src, opts)
	slots := NewSlots(3)
	done := make(chan int)
	go func() {
		n := 0
		c.RunAll(t.Context(), slots, objs, func(Result) { n++ })
		done <- n
	}()
	in := func(want int) {
		t.Helper()
		testenv.Wait(t, 10*time.Second, fmt.Sprintf("%d copies in flight, the next one queued", want), func() bool {
			n, _, _ := dst.counts()
			return n == want && slots.Waited() > 0
		})
	}
	free := func() { // lets one copy in flight finish
		t.Helper()
		select {
		case dst.release <- struct{}{}:
		case <-time.After(testenv.Scale(10 * time.Second)):
			t.Fatal("no copy in flight to let finish")
		}
	}
	in(3)
	slots.SetLimit(5)
	in(5)
	slots.SetLimit(1)
	dst.mu.Lock()
	dst.most = 0
	dst.mu.Unlock()
	for range 5 { // the five in flight finish; one new copy starts
		free()
	}
	in(1)
	for range 7 { // the one in flight and the six not started
		free()
	}
	select {
	case n := <-done:
		if n != 12 {
			t.Fatalf("%d results, want 12", n)
		}
	case <-time.After(testenv.Scale(10 * time.Second)):
		t.Fatal("RunAll did not return once every copy was released")
	}
	if _, most, entered := dst.counts(); most != 1 || entered != 12 {
		t.Fatalf("%d copies at once after the limit went down to 1 (%d in all)", most, entered)
	}
}
