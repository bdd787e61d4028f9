package worker_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/bus/bustest"
	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/job"
	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/local"
	"github.com/ossimport/ossimport/internal/storage/memory"
	"github.com/ossimport/ossimport/internal/testenv"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/worker"
)

// watchedDest is a local destination that counts the writes started
// after armed is set, and tells settled of every AbortMultipart and of
// every Put that ends while armed.
type watchedDest struct {
	*local.Store
	armed   atomic.Bool
	late    atomic.Int32 // writes started while armed
	settled chan struct{}
}

func (d *watchedDest) settle() {
	select {
	case d.settled <- struct{}{}:
	default:
	}
}

func (d *watchedDest) wrote() {
	if d.armed.Load() {
		d.late.Add(1)
	}
}

func (d *watchedDest) Put(ctx context.Context, key string, r io.Reader, size int64, meta storage.Metadata) (storage.PutResult, error) {
	d.wrote()
	res, err := d.Store.Put(ctx, key, r, size, meta)
	if d.armed.Load() {
		d.settle()
	}
	return res, err
}

func (d *watchedDest) CreateMultipart(ctx context.Context, key string, meta storage.Metadata) (string, error) {
	d.wrote()
	return d.Store.CreateMultipart(ctx, key, meta)
}

func (d *watchedDest) UploadPart(ctx context.Context, key, id string, n int, r io.Reader, size int64) (storage.Part, error) {
	d.wrote()
	return d.Store.UploadPart(ctx, key, id, n, r, size)
}

func (d *watchedDest) CompleteMultipart(ctx context.Context, key, id string, parts []storage.Part) (storage.PutResult, error) {
	d.wrote()
	return d.Store.CompleteMultipart(ctx, key, id, parts)
}

func (d *watchedDest) AbortMultipart(ctx context.Context, key, id string) error {
	err := d.Store.AbortMultipart(ctx, key, id)
	d.settle()
	return err
}

// TestFrozenWorkerFenced: a worker frozen mid-copy past taskAckWait (its
// reads block at a byte, and it extends no deadline) loses its task to a
// second worker; the source is replaced meanwhile and the second worker
// copies the new version. When the first worker wakes it writes nothing
// more (a multipart upload: no part, no completion; a PUT under way:
// failed before its last byte), reports nothing, and aborts its upload
// only if the new owner does not hold it: the destination holds the new
// bytes and no unfinished upload is left.
func TestFrozenWorkerFenced(t *testing.T) {
	for _, tc := range []struct {
		name     string
		size, at int64
	}{
		{"multipart", 3 * fencePart, fencePart},
		{"put", fencePart, fencePart / 2},
	} {
		t.Run(tc.name, func(t *testing.T) { testFrozenWorkerFenced(t, tc.size, tc.at) })
	}
}

const fencePart = 64 << 10

func testFrozenWorkerFenced(t *testing.T, size, at int64) {
	const part = fencePart
	r := newRig(t, func(s *config.Sys) { s.TaskAckWait = 2 * time.Second })
	results := r.results()

	src := memory.New("src")
	old := make([]byte, size)
	_, _ = rand.NewChaCha8([32]byte{1}).Read(old)
	mtime := time.Unix(1_700_000_000, 0)
	meta := storage.Metadata{User: map[string]string{storage.ModTimeMetaKey: "1700000000"}}
	if _, err := src.Put(t.Context(), "big.bin", bytes.NewReader(old), int64(len(old)), meta); err != nil {
		t.Fatal(err)
	}
	dstDir := t.TempDir()
	ld, err := local.New(dstDir, local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	gated := newGatedSource(src, "big.bin", at) // the first worker's view
	dst1 := &watchedDest{Store: ld, settled: make(chan struct{}, 1)}
	src1, dst1Type := register(gated), register(dst1)
	src2, dst2Type := register(src), register(ld)
	r.submit("fence", src, ld)
	resolver := func(srcType, dstType string) job.Resolver {
		return func(file string, cfg []byte, s *config.Sys) (*job.Spec, error) {
			spec, err := r.resolve(file, cfg, s)
			if err != nil {
				return nil, err
			}
			spec.Source, spec.Dest = storage.Spec{Type: srcType}, storage.Spec{Type: dstType}
			spec.Transfer.MultipartThreshold, spec.Transfer.PartSize, spec.Transfer.PartConcurrency = 2*part, part, 1
			return spec, nil
		}
	}
	r.queue("fence", "T1", []transfer.Object{{Key: "big.bin", Size: int64(len(old)), ModTime: mtime}})

	// The first worker never extends its deadline: frozen, as by SIGSTOP.
	// It runs one task at a time, so the redelivery goes to the second.
	sys1 := *r.sys
	sys1.WorkerTaskThreadNum = 1
	_, stop1 := r.start("w1", func(o *worker.Options) {
		o.Resolve, o.KeepAlive, o.Settings = resolver(src1, dst1Type), time.Hour, worker.SettingsFrom(&sys1)
	})
	select {
	case <-gated.reached:
	case <-time.After(testenv.Scale(30 * time.Second)):
		t.Fatal("the first worker did not reach the gate")
	}
	// The source is replaced (same size and mtime) while it sleeps.
	fresh := bytes.Clone(old)
	for i := range fresh {
		fresh[i] ^= 0xa5
	}
	if _, err := src.Put(t.Context(), "big.bin", bytes.NewReader(fresh), int64(len(fresh)), meta); err != nil {
		t.Fatal(err)
	}
	r.start("w2", func(o *worker.Options) { o.Resolve, o.KeepAlive = resolver(src2, dst2Type), 300*time.Millisecond })
	res := next(t, results, "result")
	if res.Worker != "w2" || res.Counters.Copied != 1 {
		t.Fatalf("result from %s: %+v %+v", res.Worker, res.Counters, res.Objects)
	}
	got, err := os.ReadFile(filepath.Join(dstDir, "big.bin"))
	if err != nil || !bytes.Equal(got, fresh) {
		t.Fatalf("after the second worker: destination holds the new bytes: %v (err %v)", bytes.Equal(got, fresh), err)
	}

	// Wake the first worker: it must not write again.
	dst1.armed.Store(true)
	close(gated.release)
	select {
	case <-dst1.settled: // its upload, completed by the new owner, aborted; or its PUT failed
	case <-time.After(testenv.Scale(30 * time.Second)):
		t.Fatal("the woken worker did not give its copy up")
	}
	stop1()
	if n := dst1.late.Load(); n != 0 {
		t.Errorf("the woken worker wrote %d times after losing its task", n)
	}
	got, _ = os.ReadFile(filepath.Join(dstDir, "big.bin"))
	if !bytes.Equal(got, fresh) {
		t.Fatal("the destination no longer holds the new bytes")
	}
	if left, _ := os.ReadDir(filepath.Join(dstDir, ".ossimport-multipart")); len(left) > 0 {
		t.Fatalf("unfinished uploads left: %d", len(left))
	}
	select {
	case extra := <-results:
		t.Fatalf("a second result was reported, by %s: %+v", extra.Worker, extra.Counters)
	default:
	}
}

// signalHandler is a log handler that closes seen the first time a
// record with one of the messages msgs is logged, by its logger or one
// derived from it.
type signalHandler struct {
	msgs []string
	once *sync.Once
	seen chan struct{}
}

func newSignalHandler(msgs ...string) *signalHandler {
	return &signalHandler{msgs: msgs, once: new(sync.Once), seen: make(chan struct{})}
}

func (h *signalHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *signalHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *signalHandler) WithGroup(string) slog.Handler            { return h }

func (h *signalHandler) Handle(_ context.Context, r slog.Record) error {
	if slices.Contains(h.msgs, r.Message) {
		h.once.Do(func() { close(h.seen) })
	}
	return nil
}

// TestClaimWaitsForTheBus: a task delivered while the bus cannot record
// its claim (the owners bucket is gone, as it is while a cluster elects
// its leader) is claimed once the bucket is back, on the same delivery:
// the outage spends none of the task's taskMaxDeliver deliveries.
func TestClaimWaitsForTheBus(t *testing.T) {
	r := newRig(t, func(s *config.Sys) { s.TaskAckWait = 2 * time.Minute })
	results := r.results()
	src := memory.New("src")
	r.submit("claim_job", src, memory.New("dst"))
	js := bustest.JetStream(t, r.srv)
	// The first failed claim is either tried again or, as it was before,
	// handed back.
	h := newSignalHandler("cannot claim the task yet; trying again", "cannot claim the task; it is handed back")
	r.start("w1", func(o *worker.Options) { o.Logger = slog.New(h) })
	if err := js.DeleteKeyValue(r.ctx, bus.OwnersBucket); err != nil {
		t.Fatal(err)
	}
	r.queue("claim_job", "T1", objects(t, src, "k", 2, 100))
	select {
	case <-h.seen:
	case <-time.After(testenv.Scale(time.Minute)):
		t.Fatal("the worker never failed to claim the task")
	}
	r.connect("restore") // sets the bus up again: the bucket is back
	res := next(t, results, "the task, claimed once the owners bucket is back")
	if res.TaskID != "T1" || res.Counters.Copied != 2 || res.Attempt != 1 {
		t.Fatalf("result %s: %+v (attempt %d), want T1 with 2 copied on its first delivery", res.TaskID, res.Counters, res.Attempt)
	}
}
