package local

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/storage"
)

func TestMultipartResumeInNewStore(t *testing.T) {
	root := t.TempDir()
	ctx := t.Context()
	meta := storage.Metadata{User: map[string]string{storage.ModTimeMetaKey: "1600000000"}}
	key := "dir/big file"
	id, err := newStore(t, root, Options{}).CreateMultipart(ctx, key, meta)
	if err != nil {
		t.Fatal(err)
	}
	chunks := []string{"first-", "second-", "third"}
	st := newStore(t, root, Options{})
	if _, err := st.UploadPart(ctx, key, id, 2, bytesReader("stale"), 5); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{3, 2} { // part 2 again replaces the stale one
		p, err := st.UploadPart(ctx, key, id, n, bytesReader(chunks[n-1]), int64(len(chunks[n-1])))
		if err != nil {
			t.Fatal(err)
		}
		checkSums(t, "part", p.Checksums, chunks[n-1])
	}
	// A restarted worker: a new store knows only the upload id.
	st = newStore(t, root, Options{})
	parts, err := st.ListParts(ctx, key, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 2 || parts[0].Number != 2 || parts[0].Size != 7 || parts[1].Number != 3 || parts[1].Size != 5 {
		t.Fatalf("parts = %+v, want parts 2 (7 bytes) and 3 (5 bytes)", parts)
	}
	checkSums(t, "listed part", parts[1].Checksums, "third")
	p1, err := st.UploadPart(ctx, key, id, 1, bytesReader(chunks[0]), int64(len(chunks[0])))
	if err != nil {
		t.Fatal(err)
	}
	res, err := st.CompleteMultipart(ctx, key, id, append([]storage.Part{p1}, parts...))
	if err != nil {
		t.Fatal(err)
	}
	whole := strings.Join(chunks, "")
	checkSums(t, "completed", res.Checksums, whole)
	if got := readAll(t, st, key); got != whole {
		t.Fatalf("completed object = %q", got)
	}
	if info, _ := st.Stat(ctx, key); !info.ModTime.Equal(time.Unix(1600000000, 0)) {
		t.Errorf("completed mtime %v, want the recorded one", info.ModTime)
	}
	if _, err := os.Stat(filepath.Join(root, multipartDir)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("multipart directory left after the last upload: %v", err)
	}
	equalStrings(t, "leftovers", leftovers(t, root), []string{key})
}

func TestMultipartUploadIDs(t *testing.T) {
	root := t.TempDir()
	st := newStore(t, root, Options{})
	ctx := t.Context()
	id, err := st.CreateMultipart(ctx, "k", storage.Metadata{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.UploadPart(ctx, "k", id, 1, bytesReader("abc"), 3); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct{ key, id string }{
		{"k", "0123456789abcdef0123456789abcdef"}, {"k", "../../../etc"}, {"k", ""}, {"other", id},
	} {
		if _, err := st.ListParts(ctx, bad.key, bad.id); !errors.Is(err, storage.ErrNotExist) {
			t.Errorf("list parts %q %q: err %v, want ErrNotExist", bad.key, bad.id, err)
		}
		if _, err := st.UploadPart(ctx, bad.key, bad.id, 1, bytesReader("x"), 1); !errors.Is(err, storage.ErrNotExist) {
			t.Errorf("upload part %q %q: err %v, want ErrNotExist", bad.key, bad.id, err)
		}
	}
	if err := st.AbortMultipart(ctx, "other", id); err == nil {
		t.Error("aborting another key's upload succeeded")
	}
	if err := st.AbortMultipart(ctx, "k", "0123456789abcdef0123456789abcdef"); err != nil {
		t.Errorf("aborting an unknown upload: %v", err)
	}
}

func TestMultipartCompleteErrors(t *testing.T) {
	st := newStore(t, t.TempDir(), Options{})
	ctx := t.Context()
	id, err := st.CreateMultipart(ctx, "k", storage.Metadata{})
	if err != nil {
		t.Fatal(err)
	}
	p1, err := st.UploadPart(ctx, "k", id, 1, bytesReader("abc"), 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, maxParts + 1} {
		if _, err := st.UploadPart(ctx, "k", id, n, bytesReader("x"), 1); err == nil {
			t.Errorf("part number %d accepted", n)
		}
	}
	if _, err := st.UploadPart(ctx, "k", id, 2, bytesReader("short"), 10); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short part: err %v, want io.ErrUnexpectedEOF", err)
	}
	wrong := []struct {
		name  string
		parts []storage.Part
	}{
		{"none", nil},
		{"missing part", []storage.Part{p1, {Number: 2}}},
		{"wrong ETag", []storage.Part{{Number: 1, ETag: "00000000000000000000000000000000"}}},
		{"wrong size", []storage.Part{{Number: 1, Size: 4}}},
		{"twice", []storage.Part{p1, p1}},
	}
	for _, w := range wrong {
		if _, err := st.CompleteMultipart(ctx, "k", id, w.parts); err == nil {
			t.Errorf("complete with %s succeeded", w.name)
		}
	}
	parts, err := st.ListParts(ctx, "k", id)
	if err != nil || len(parts) != 1 {
		t.Fatalf("after failed completions: parts %+v, %v; want the upload intact", parts, err)
	}
	if _, err := st.Stat(ctx, "k"); !errors.Is(err, storage.ErrNotExist) {
		t.Errorf("failed completions created the object: %v", err)
	}
	// Cancelled while the parts are concatenated: no temporary file is
	// left and the upload can still be completed.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := st.CompleteMultipart(cancelled, "k", id, []storage.Part{p1}); !errors.Is(err, context.Canceled) {
		t.Errorf("complete with a cancelled context: err %v, want context.Canceled", err)
	}
	for _, left := range leftovers(t, st.Root()) {
		if !strings.HasPrefix(left, multipartDir+"/") {
			t.Errorf("a cancelled completion left %q", left)
		}
	}
	if _, err := st.CompleteMultipart(ctx, "k", id, []storage.Part{{Number: 1, ETag: `"` + strings.ToUpper(p1.ETag) + `"`}}); err != nil {
		t.Fatalf("complete with a quoted upper-case ETag: %v", err)
	}
	if got := readAll(t, st, "k"); got != "abc" {
		t.Errorf("object = %q", got)
	}
}
