package transfer

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/memory"
)

// uploadGone reports whether the destination no longer holds upload id
// of key (completed or aborted).
func uploadGone(t *testing.T, dst storage.MultipartWriter, key, id string) bool {
	t.Helper()
	_, err := dst.ListParts(t.Context(), key, id)
	return errors.Is(err, storage.ErrNotExist)
}

func TestPendingUploadAfterInterruptionAndSuccess(t *testing.T) {
	src := memory.New("src")
	dst := &countingDest{Store: memory.New("dst")}
	data := randomBytes(5*256<<10, 11)
	obj := seed(t, src, "big", data, time.Unix(1, 0))
	opts := testOptions()
	opts.PartConcurrency = 1
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	dst.stopAt, dst.stopCopy = 2, cancel
	res := newCopier(t, dst, src, opts).Copy(ctx, obj)
	id, ps := res.PendingUpload()
	if res.Code.OK() || id == "" || ps != 256<<10 {
		t.Fatalf("interrupted copy: %s, pending upload %q of part size %d; want a failure leaving the upload", res.Code, id, ps)
	}
	if parts, err := dst.ListParts(t.Context(), "big", id); err != nil || len(parts) != 2 {
		t.Fatalf("the pending upload holds %d parts (%v), want 2", len(parts), err)
	}
	dst.stopAt = 0
	obj.UploadID, obj.PartSize = id, ps
	res = newCopier(t, dst, src, opts).Copy(t.Context(), obj)
	if id2, _ := res.PendingUpload(); res.Code != Succeed || id2 != "" {
		t.Fatalf("resumed copy: %s %s, pending upload %q; want Succeed and none", res.Code, res.Detail, id2)
	}
	if !uploadGone(t, dst, "big", id) || !bytes.Equal(readAll(t, dst, "big"), data) {
		t.Fatal("the upload was not completed into the object")
	}
}

// hookDest fails chosen multipart calls.
type hookDest struct {
	*memory.Store
	listParts  func() error
	uploadPart func(n int) error
	listCalls  atomic.Int32
}

func (h *hookDest) ListParts(ctx context.Context, key, id string) ([]storage.Part, error) {
	h.listCalls.Add(1)
	if h.listParts != nil {
		if err := h.listParts(); err != nil {
			return nil, err
		}
	}
	return h.Store.ListParts(ctx, key, id)
}

func (h *hookDest) UploadPart(ctx context.Context, key, id string, n int, r io.Reader, size int64) (storage.Part, error) {
	if h.uploadPart != nil {
		if err := h.uploadPart(n); err != nil {
			return storage.Part{}, err
		}
	}
	return h.Store.UploadPart(ctx, key, id, n, r, size)
}

// startUpload leaves an upload of obj with its first two parts stored,
// as an interrupted attempt would, and returns obj carrying it.
func startUpload(t *testing.T, dst *hookDest, src storage.Source, obj Object) Object {
	t.Helper()
	opts := testOptions()
	opts.PartConcurrency = 1
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	dst.uploadPart = func(n int) error {
		if n > 2 {
			cancel()
			return context.Canceled
		}
		return nil
	}
	defer func() { dst.uploadPart = nil }()
	res := newCopier(t, dst, src, opts).Copy(ctx, obj)
	obj.UploadID, obj.PartSize = res.PendingUpload()
	if obj.UploadID == "" {
		t.Fatalf("no upload left by the interrupted copy (%s %s)", res.Code, res.Detail)
	}
	return obj
}

// TestUnresumableUploadsAreAborted: an upload that cannot or need not be
// resumed is aborted, never left behind, and the result says none is
// pending.
func TestUnresumableUploadsAreAborted(t *testing.T) {
	data := randomBytes(5*256<<10, 12)
	for _, tc := range []struct {
		name   string
		before func(t *testing.T, src *memory.Store, dst *hookDest, obj Object, opts *Options)
		want   Code
		fresh  bool // a new upload is expected
	}{
		{"vanished at the destination", func(t *testing.T, _ *memory.Store, dst *hookDest, obj Object, _ *Options) {
			if err := dst.AbortMultipart(t.Context(), obj.Dst(), obj.UploadID); err != nil {
				t.Fatal(err)
			}
		}, Succeed, true},
		{"part size changed", func(_ *testing.T, _ *memory.Store, _ *hookDest, _ Object, opts *Options) {
			opts.PartSize = 512 << 10
		}, Succeed, true},
		{"source changed", func(t *testing.T, src *memory.Store, _ *hookDest, _ Object, _ *Options) {
			seed(t, src, "big", data[:len(data)-1], time.Unix(2, 0))
		}, SizeNotMatch, false},
		{"source deleted", func(t *testing.T, src *memory.Store, _ *hookDest, _ Object, _ *Options) {
			_ = src.Delete(t.Context(), "big")
		}, SourceNotFound, false},
		{"object already at the destination", func(t *testing.T, _ *memory.Store, dst *hookDest, _ Object, opts *Options) {
			seed(t, dst.Store, "big", data, time.Unix(1, 0))
			opts.SkipExisting = true
		}, Skipped, false},
		{"destination refuses the parts", func(_ *testing.T, _ *memory.Store, dst *hookDest, _ Object, _ *Options) {
			dst.uploadPart = func(int) error { return storage.ErrAccessDenied }
		}, UploadFailed, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := memory.New("src")
			dst := &hookDest{Store: memory.New("dst")}
			obj := startUpload(t, dst, src, seed(t, src, "big", data, time.Unix(1, 0)))
			opts := testOptions()
			var started []string
			opts.OnUploadStarted = func(_ Object, id string, _ int64) { started = append(started, id) }
			tc.before(t, src, dst, obj, &opts)
			res := newCopier(t, dst, src, opts).Copy(t.Context(), obj)
			if res.Code != tc.want {
				t.Fatalf("got %s %s, want %s", res.Code, res.Detail, tc.want)
			}
			if id, _ := res.PendingUpload(); id != "" {
				t.Fatalf("pending upload %q after %s", id, res.Code)
			}
			if !uploadGone(t, dst, "big", obj.UploadID) {
				t.Fatal("the earlier upload is still at the destination")
			}
			if tc.fresh != (len(started) == 1) {
				t.Fatalf("new uploads started: %v", started)
			}
			for _, id := range started {
				if !uploadGone(t, dst, "big", id) {
					t.Fatalf("new upload %s left unfinished", id)
				}
			}
			if tc.want == Succeed && !bytes.Equal(readAll(t, dst, "big"), data) {
				t.Fatal("object differs from the source")
			}
		})
	}
}

// TestTransientListPartsKeepsTheUpload: a destination that cannot list
// the parts for a while is asked again; the upload is neither abandoned
// nor replaced.
func TestTransientListPartsKeepsTheUpload(t *testing.T) {
	data := randomBytes(5*256<<10, 13)
	src := memory.New("src")
	dst := &hookDest{Store: memory.New("dst")}
	obj := startUpload(t, dst, src, seed(t, src, "big", data, time.Unix(1, 0)))
	opts := testOptions()
	opts.OnUploadStarted = func(Object, string, int64) { t.Error("a new upload was started") }
	var failures atomic.Int32
	failures.Store(1 << 30) // never clears within the retry budget
	dst.listParts = func() error {
		if failures.Add(-1) >= 0 {
			return storage.Transient(errors.New("503 service unavailable"))
		}
		return nil
	}
	res := newCopier(t, dst, src, opts).Copy(t.Context(), obj)
	if id, _ := res.PendingUpload(); res.Code != UploadFailed || id != obj.UploadID {
		t.Fatalf("got %s, pending %q; want UploadFailed keeping %q", res.Code, id, obj.UploadID)
	}
	if uploadGone(t, dst, "big", obj.UploadID) {
		t.Fatal("the upload was aborted on a transient failure")
	}
	failures.Store(1)
	res = newCopier(t, dst, src, opts).Copy(t.Context(), obj)
	if res.Code != Succeed || res.Bytes != int64(len(data))-2*256<<10 {
		t.Fatalf("got %s %s, wrote %d bytes; want the upload resumed", res.Code, res.Detail, res.Bytes)
	}
	if !bytes.Equal(readAll(t, dst, "big"), data) {
		t.Fatal("object differs from the source")
	}
}
