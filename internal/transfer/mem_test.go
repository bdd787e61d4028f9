package transfer

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/testenv"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/memory"
)

// meteredDest counts the requests made to a memory destination, which
// reports like S3 (etag: an MD5 ETag, no CRC-64), like OSS (crc: a
// CRC-64, no MD5) or nothing at all (neither). It records whether each
// body was a storage.CheckedBody and how many parts were in flight at
// most; gate, when set, holds every part until it is closed.
type meteredDest struct {
	*memory.Store
	etag, crc bool

	puts, parts, stats, opens atomic.Int64
	unchecked                 atomic.Int64 // bodies that were not CheckedBody
	inFlight, mostInFlight    atomic.Int64
	failPart                  atomic.Int64 // transient failures still to inject into parts
	gate                      chan struct{}
}

func (d *meteredDest) Capabilities() storage.Capabilities {
	c := d.Store.Capabilities()
	c.CRC64, c.MD5, c.ETagIsMD5, c.ServerSideCopy = d.crc, false, d.etag, false
	return c
}

func (d *meteredDest) body(r io.Reader) {
	if _, ok := r.(storage.CheckedBody); !ok {
		d.unchecked.Add(1)
	}
}

func (d *meteredDest) report(c storage.Checksums, etag string) (storage.Checksums, string) {
	if !d.crc {
		c.CRC64, c.HasCRC64 = 0, false
	}
	c.MD5 = nil
	if !d.etag {
		etag = "opaque"
	}
	return c, etag
}

func (d *meteredDest) Put(ctx context.Context, key string, r io.Reader, size int64, meta storage.Metadata) (storage.PutResult, error) {
	d.puts.Add(1)
	d.body(r)
	res, err := d.Store.Put(ctx, key, r, size, meta)
	res.Checksums, res.ETag = d.report(res.Checksums, res.ETag)
	return res, err
}

func (d *meteredDest) UploadPart(ctx context.Context, key, id string, n int, r io.Reader, size int64) (storage.Part, error) {
	d.parts.Add(1)
	d.body(r)
	now := d.inFlight.Add(1)
	defer d.inFlight.Add(-1)
	for most := d.mostInFlight.Load(); now > most && !d.mostInFlight.CompareAndSwap(most, now); most = d.mostInFlight.Load() {
	}
	if d.gate != nil {
		select {
		case <-d.gate:
		case <-ctx.Done():
			return storage.Part{}, ctx.Err()
		}
	}
	if d.failPart.Add(-1) >= 0 {
		_, _ = io.CopyN(io.Discard, r, size/2) // the connection broke half way
		return storage.Part{}, storage.Transient(errors.New("connection reset"))
	}
	p, err := d.Store.UploadPart(ctx, key, id, n, r, size)
	p.Checksums, p.ETag = d.report(p.Checksums, p.ETag)
	return p, err
}

func (d *meteredDest) CompleteMultipart(ctx context.Context, key, id string, parts []storage.Part) (storage.PutResult, error) {
	res, err := d.Store.CompleteMultipart(ctx, key, id, parts)
	res.Checksums, res.ETag = d.report(res.Checksums, res.ETag)
	if d.etag { // as S3 makes it: the MD5 of the parts' MD5s, and their count
		all := md5.New()
		for _, p := range parts {
			sum, _ := hex.DecodeString(p.ETag)
			all.Write(sum)
		}
		res.ETag = fmt.Sprintf("%x-%d", all.Sum(nil), len(parts))
	}
	return res, err
}

func (d *meteredDest) Stat(ctx context.Context, key string) (storage.ObjectInfo, error) {
	d.stats.Add(1)
	info, err := d.Store.Stat(ctx, key)
	info.Checksums, info.ETag = d.report(info.Checksums, info.ETag)
	return info, err
}

func (d *meteredDest) Open(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	d.opens.Add(1)
	return d.Store.Open(ctx, key, off, n)
}

// TestOneRequestPerProvenObject: with isAuditAfterImport on, an object
// whose PUT answer proves it (an MD5 ETag, a CRC-64) costs that one
// request and nothing else, is hashed with the one checksum the
// destination can check, and its audit line says the PUT's answer
// verified it; a destination that reports nothing is still read back.
func TestOneRequestPerProvenObject(t *testing.T) {
	mtime := time.Unix(1_700_000_000, 0)
	for _, tc := range []struct {
		name      string
		etag, crc bool
		check     string
		requests  int64 // per object
		proof     string
		crc64     bool // Result.Checksums carries a CRC-64
		md5       bool // ... an MD5
	}{
		{"s3-like", true, false, CheckETag, 1, "verified=put", false, true},
		{"oss-like", false, true, CheckCRC64, 1, "verified=put", true, false},
		{"silent", false, false, CheckCRC64, 3, "verified=readback", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := memory.New("src")
			dst := &meteredDest{Store: memory.New("dst"), etag: tc.etag, crc: tc.crc}
			c := newCopier(t, dst, src, testOptions())
			const n = 20
			for i := range n {
				obj := seed(t, src, fmt.Sprintf("o%02d", i), randomBytes(1000+i, uint64(i)), mtime)
				res := c.Copy(t.Context(), obj)
				if res.Code != Succeed || res.Check != tc.check || !strings.Contains(res.Detail, tc.proof) {
					t.Fatalf("copy = %s, check %q, %q; want Succeed, %q, %q", res.Code, res.Check, res.Detail, tc.check, tc.proof)
				}
				if res.Checksums.HasCRC64 != tc.crc64 || (res.Checksums.MD5 != nil) != tc.md5 {
					t.Fatalf("checksums computed %+v: want CRC-64 %v, MD5 %v", res.Checksums, tc.crc64, tc.md5)
				}
			}
			got := dst.puts.Load() + dst.stats.Load() + dst.opens.Load()
			if got != n*tc.requests || dst.puts.Load() != n {
				t.Fatalf("%d requests (%d PUT, %d HEAD, %d GET) for %d objects, want %d each",
					got, dst.puts.Load(), dst.stats.Load(), dst.opens.Load(), n, tc.requests)
			}
			if dst.unchecked.Load() != 0 {
				t.Fatalf("%d bodies were not marked storage.CheckedBody", dst.unchecked.Load())
			}
		})
	}
}

// TestStreamedPartsNeedNoBuffers: the parts of a source that reads
// ranges stream from it into their uploads: no buffer is taken from the
// budget, every part body is a storage.CheckedBody (not a buffer), and
// the multipart object is verified by its parts' answers alone.
func TestStreamedPartsNeedNoBuffers(t *testing.T) {
	for _, tc := range []struct {
		name      string
		etag, crc bool
		check     string
	}{{"s3-like", true, false, CheckETag}, {"oss-like", false, true, CheckCRC64}} {
		t.Run(tc.name, func(t *testing.T) {
			src := memory.New("src")
			dst := &meteredDest{Store: memory.New("dst"), etag: tc.etag, crc: tc.crc}
			opts := testOptions()
			opts.Buffers = NewBudget(1)
			data := randomBytes(2<<20+777, 7)
			obj := seed(t, src, "big", data, time.Unix(1_700_000_000, 0))
			res := newCopier(t, dst, src, opts).Copy(t.Context(), obj)
			if res.Code != Succeed || res.Strategy != "multipart" || res.Check != tc.check || !strings.Contains(res.Detail, "verified=put") {
				t.Fatalf("copy = %s via %q, check %q: %s", res.Code, res.Strategy, res.Check, res.Detail)
			}
			if _, _, count := opts.Buffers.Stats(); count != 0 {
				t.Fatalf("%d part buffers taken, want none", count)
			}
			if dst.unchecked.Load() != 0 || dst.stats.Load() != 0 {
				t.Fatalf("%d part bodies not streamed, %d HEADs", dst.unchecked.Load(), dst.stats.Load())
			}
			if got := readAll(t, dst, "big"); string(got) != string(data) {
				t.Fatal("the destination differs from the source")
			}
		})
	}
}

// TestStreamedPartRetried: a part whose upload breaks half way is sent
// again from a new read of its range, within the same attempt.
func TestStreamedPartRetried(t *testing.T) {
	src := memory.New("src")
	dst := &meteredDest{Store: memory.New("dst"), crc: true}
	dst.failPart.Store(2)
	data := randomBytes(2<<20, 9)
	obj := seed(t, src, "big", data, time.Unix(1_700_000_000, 0))
	res := newCopier(t, dst, src, testOptions()).Copy(t.Context(), obj)
	if res.Code != Succeed || res.Attempts != 1 {
		t.Fatalf("copy = %s after %d attempts: %s; want Succeed in one", res.Code, res.Attempts, res.Detail)
	}
	if got := readAll(t, dst, "big"); string(got) != string(data) {
		t.Fatal("the destination differs from the source")
	}
}

// noRanges is a source that cannot read from an offset (like an HTTP
// server ignoring Range): its parts must be read in one stream into
// buffers.
type noRanges struct{ *memory.Store }

func (n noRanges) Open(ctx context.Context, key string, off, length int64) (io.ReadCloser, error) {
	if off != 0 || length >= 0 {
		return nil, fmt.Errorf("open %q at %d: %w", key, off, storage.ErrNotSupported)
	}
	return n.Store.Open(ctx, key, off, length)
}

// TestBudgetBoundsBuffersInFlight: many large files from a source that
// cannot be re-read, copied at once by two copiers sharing one budget,
// never hold more part buffers than the budget, however many files are
// in flight; all are copied.
func TestBudgetBoundsBuffersInFlight(t *testing.T) {
	src := memory.New("src")
	dst := &meteredDest{Store: memory.New("dst"), crc: true, gate: make(chan struct{})}
	opts := testOptions()
	opts.Attempts = 1
	budget := NewBudget(1)
	opts.Buffers = budget
	c1 := newCopier(t, dst, noRanges{src}, opts)
	c2 := newCopier(t, dst, noRanges{src}, opts)
	capacity := budget.Cap()
	if want := int64(opts.PartConcurrency) * opts.PartSize; capacity != want {
		t.Fatalf("budget capacity %d, want one file's parts in flight, %d", capacity, want)
	}
	const files = 8
	var objs []Object
	for i := range files {
		objs = append(objs, seed(t, src, fmt.Sprintf("big%d", i), randomBytes(int(4*opts.PartSize)+i, uint64(i)), time.Unix(1_700_000_000, 0)))
	}
	var wg sync.WaitGroup
	results := make([]Result, files)
	for i, obj := range objs {
		c := c1
		if i%2 == 1 {
			c = c2
		}
		wg.Go(func() { results[i] = c.Copy(t.Context(), obj) })
	}
	// Wait until the budget is full and parts are held at the gate.
	testenv.Wait(t, 30*time.Second, "the budget to fill with parts held at the gate", func() bool {
		used, _, _ := budget.Stats()
		return used+opts.PartSize > capacity && dst.inFlight.Load() > 0
	}, func() string { used, _, _ := budget.Stats(); return fmt.Sprintf("%d of %d bytes used", used, capacity) })
	close(dst.gate)
	wg.Wait()
	for _, res := range results {
		if res.Code != Succeed {
			t.Fatalf("copy of %s = %s: %s", res.Object.Key, res.Code, res.Detail)
		}
	}
	_, peak, count := budget.Stats()
	if peak > capacity || count < files*4 {
		t.Fatalf("peak %d bytes of buffers in %d, budget %d; want within the budget and one buffer per part", peak, count, capacity)
	}
	if most := dst.mostInFlight.Load() * opts.PartSize; most > capacity {
		t.Fatalf("%d parts in flight at once (%d bytes), budget %d", dst.mostInFlight.Load(), most, capacity)
	}
	t.Logf("peak %d of %d bytes, %d buffers, at most %d parts in flight", peak, capacity, count, dst.mostInFlight.Load())
}

// TestBudgetReusesOnlyBuffersOfAnsweredRequests: a buffer whose request
// was answered is handed out again; one whose request failed is not (the
// HTTP client may still be sending it), and its room is given back.
func TestBudgetReusesOnlyBuffersOfAnsweredRequests(t *testing.T) {
	b := NewBudget(1 << 20)
	get := func() *[]byte {
		t.Helper()
		buf, err := b.get(t.Context(), 4096)
		if err != nil {
			t.Fatal(err)
		}
		return buf
	}
	answered := get()
	b.release(4096, answered, nil)
	failed := get()
	if failed != answered {
		t.Fatal("the buffer of an answered request was not reused")
	}
	b.release(4096, failed, errors.New("connection reset"))
	if used, _, _ := b.Stats(); used != 0 || b.held != 0 {
		t.Fatalf("after a failed request: %d bytes used, %d held; want 0 and 0", used, b.held)
	}
	if again := get(); again == failed {
		t.Fatal("the buffer of a failed request was handed out again")
	}
}

// TestBufferedPartFailureKeepsTheBudget: a part sent from a buffer (a
// source that cannot read ranges) whose upload fails gives its room back
// without its buffer; the object is copied on the next attempt and the
// budget ends with nothing in use and only reusable buffers held.
func TestBufferedPartFailureKeepsTheBudget(t *testing.T) {
	src := memory.New("src")
	dst := &meteredDest{Store: memory.New("dst"), crc: true}
	dst.failPart.Store(1)
	opts := testOptions()
	budget := NewBudget(1)
	opts.Buffers = budget
	data := randomBytes(int(opts.MultipartThreshold+opts.PartSize)+5, 11)
	res := newCopier(t, dst, noRanges{src}, opts).Copy(t.Context(), seed(t, src, "big", data, time.Unix(1_700_000_000, 0)))
	if res.Code != Succeed || res.Attempts < 2 {
		t.Fatalf("copy = %s after %d attempts: %s; want Succeed after the failed part", res.Code, res.Attempts, res.Detail)
	}
	if got := readAll(t, dst, "big"); string(got) != string(data) {
		t.Fatal("the destination differs from the source")
	}
	var free int64
	for size, list := range budget.free {
		free += size * int64(len(list))
	}
	if used, _, _ := budget.Stats(); used != 0 || budget.held != free {
		t.Fatalf("budget: %d bytes in use, %d held, %d in reusable buffers; want 0 in use and all held reusable", used, budget.held, free)
	}
}
