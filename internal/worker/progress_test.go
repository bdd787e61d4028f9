package worker

import (
	"testing"

	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/transfer"
)

// TestProgressCountsEachObjectOnce: bytes read again (a retry, a resumed
// upload) never count beyond an object's size, and a finished object's
// bytes move from in flight to done.
func TestProgressCountsEachObjectOnce(t *testing.T) {
	a := transfer.Object{Key: "a", Size: 100}
	b := transfer.Object{Key: "b", Size: 50}
	u := transfer.Object{Key: "url", Size: -1} // size unknown (URL lists)
	p := newTaskProgress(plan.Task{Objects: []transfer.Object{a, b, u}, Bytes: 150})
	p.read(a, 60)
	p.read(a, 60) // the first attempt failed at 60; the retry reads it all again
	p.read(b, 20)
	p.read(u, 7)
	got := p.snapshot()
	if got.BytesInFlight != 100+20+7 || got.BytesDone != 127 || got.FilesInFlight != 3 || got.FilesDone != 0 {
		t.Fatalf("in flight: %+v", got)
	}
	p.finish(transfer.Result{Object: a, Code: transfer.Succeed, Size: 100})
	p.finish(transfer.Result{Object: b, Code: transfer.UploadFailed})
	got = p.snapshot()
	if got.BytesInFlight != 7 || got.BytesDone != 107 || got.FilesInFlight != 1 || got.FilesDone != 2 || got.FilesTotal != 3 || got.BytesTotal != 150 {
		t.Fatalf("after two results: %+v", got)
	}
}
