package transfer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/memory"
)

func TestUnclassified(t *testing.T) {
	odd := errors.New("java.lang.NullPointerException")
	for _, tt := range []struct {
		res  Result
		want bool
	}{
		{failure(UploadFailed, fmt.Errorf("upload %q: %w", "k", odd)), true},
		{failure(DownloadFailed, odd), true},
		{failure(UploadFailed, fmt.Errorf("upload: %w", storage.ErrAccessDenied)), false},
		{failure(UploadFailed, fmt.Errorf("upload: %w", storage.ErrBucketNotExist)), false},
		{failure(DownloadFailed, fmt.Errorf("read: %w", storage.ErrNotExist)), false},
		{failure(UploadFailed, fmt.Errorf("upload: %w", storage.ErrChecksumMismatch)), false},
		{failure(UploadFailed, storage.Transient(odd)), false},
		{failure(UploadFailed, context.Canceled), false},
		{failure(CheckFailed, odd), false},
		{failure(SizeNotMatch, odd), false},
		{Result{Code: UploadFailed, Detail: "no error attached"}, false},
		{Result{Code: Succeed}, false},
	} {
		if got := Unclassified(tt.res); got != tt.want {
			t.Errorf("Unclassified(%s %v) = %v, want %v", tt.res.Code, tt.res.Err, got, tt.want)
		}
	}
}

func TestOnObjectBytesNamesTheObject(t *testing.T) {
	src := memory.New("src")
	dst := &flakyDest{Store: memory.New("dst")}
	dst.failures.Store(1) // the first put reads half the object, then fails
	small := seed(t, src, "small", randomBytes(5000, 1), time.Unix(1, 0))
	big := seed(t, src, "big", randomBytes(3<<20+7, 2), time.Unix(1, 0))
	var mu sync.Mutex
	per := map[string]int64{}
	var all int64
	opts := testOptions()
	opts.OnBytes = func(n int64) { mu.Lock(); all += n; mu.Unlock() }
	opts.OnObjectBytes = func(o Object, n int64) { mu.Lock(); per[o.Key] += n; mu.Unlock() }
	c := newCopier(t, dst, src, opts)
	for _, o := range []Object{small, big} {
		if res := c.Copy(t.Context(), o); res.Code != Succeed {
			t.Fatalf("%s: %s %s", o.Key, res.Code, res.Detail)
		}
	}
	// The retried put read the small object one and a half times; the
	// big one went in parts, each read once.
	if per["small"] != small.Size+small.Size/2 || per["big"] != big.Size || all != per["small"]+per["big"] {
		t.Fatalf("bytes per object %v, all %d; sizes small %d big %d", per, all, small.Size, big.Size)
	}
}
