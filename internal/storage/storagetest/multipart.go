package storagetest

import (
	"bytes"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
)

func (e *env) partSize() int64 {
	switch {
	case e.opts.PartSize > 0:
		return e.opts.PartSize
	case e.caps().MinPartSize > 0:
		return e.caps().MinPartSize
	}
	return 5 << 20
}

// parts splits data into part-sized pieces.
func (e *env) parts(data []byte) [][]byte {
	ps := int(e.partSize())
	var out [][]byte
	for len(data) > ps {
		out = append(out, data[:ps])
		data = data[ps:]
	}
	return append(out, data)
}

func (e *env) uploadPart(t *testing.T, m storage.MultipartWriter, key, id string, n int, data []byte) storage.Part {
	t.Helper()
	p, err := m.UploadPart(e.ctx, key, id, n, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("upload part %d of %q: %v", n, key, err)
	}
	if p.Number != n || p.Size != int64(len(data)) {
		t.Fatalf("part %d: got number %d size %d, want size %d", n, p.Number, p.Size, len(data))
	}
	if e.caps().CRC64 && (!p.Checksums.HasCRC64 || p.Checksums.CRC64 != crc(data)) {
		t.Errorf("part %d CRC64 = %x, want %x", n, p.Checksums.CRC64, crc(data))
	}
	return p
}

func testMultipart(t *testing.T, e *env) {
	m := e.multipart(t)
	data := payload(int(3*e.partSize()+12_345), 4)
	chunks := e.parts(data)
	if len(chunks) < 3 {
		t.Fatalf("want at least 3 parts, got %d", len(chunks))
	}
	meta := storage.Metadata{ContentType: "application/x-test", User: map[string]string{"k": "v"}}
	id, err := m.CreateMultipart(e.ctx, "mp/big.bin", meta)
	if err != nil {
		t.Fatalf("create multipart: %v", err)
	}
	var parts []storage.Part
	// Upload in reverse order: parts are independent.
	for i := len(chunks) - 1; i >= 0; i-- {
		parts = append(parts, e.uploadPart(t, m, "mp/big.bin", id, i+1, chunks[i]))
	}
	slices.SortFunc(parts, func(a, b storage.Part) int { return a.Number - b.Number })
	res, err := m.CompleteMultipart(e.ctx, "mp/big.bin", id, parts)
	if err != nil {
		t.Fatalf("complete multipart: %v", err)
	}
	if e.caps().CRC64 && (!res.Checksums.HasCRC64 || res.Checksums.CRC64 != crc(data)) {
		t.Errorf("completed object CRC64 = %x, want %x", res.Checksums.CRC64, crc(data))
	}
	mustEqualBytes(t, "multipart object", e.read(t, "mp/big.bin"), data)
	info := e.stat(t, "mp/big.bin")
	if info.Size != int64(len(data)) {
		t.Errorf("stat size %d, want %d", info.Size, len(data))
	}
	if !e.opts.NoMetadata && info.Meta.ContentType != meta.ContentType {
		t.Errorf("multipart ContentType = %q, want %q", info.Meta.ContentType, meta.ContentType)
	}
}

func testMultipartResume(t *testing.T, e *env) {
	m := e.multipart(t)
	data := payload(int(3*e.partSize()+1), 5)
	chunks := e.parts(data)
	key := "mp/resume.bin"
	id, err := m.CreateMultipart(e.ctx, key, storage.Metadata{})
	if err != nil {
		t.Fatal(err)
	}
	e.uploadPart(t, m, key, id, 1, chunks[0])
	e.uploadPart(t, m, key, id, 3, chunks[2])
	// A restarted worker only knows the upload id.
	have, err := m.ListParts(e.ctx, key, id)
	if err != nil {
		t.Fatalf("list parts: %v", err)
	}
	var numbers []int
	for _, p := range have {
		numbers = append(numbers, p.Number)
		if p.Size != int64(len(chunks[p.Number-1])) {
			t.Errorf("listed part %d size %d, want %d", p.Number, p.Size, len(chunks[p.Number-1]))
		}
	}
	if !slices.Equal(numbers, []int{1, 3}) {
		t.Fatalf("list parts = %v, want [1 3]", numbers)
	}
	for n := 2; n <= len(chunks); n++ {
		if n != 3 {
			have = append(have, e.uploadPart(t, m, key, id, n, chunks[n-1]))
		}
	}
	slices.SortFunc(have, func(a, b storage.Part) int { return a.Number - b.Number })
	if _, err := m.CompleteMultipart(e.ctx, key, id, have); err != nil {
		t.Fatalf("complete resumed upload: %v", err)
	}
	mustEqualBytes(t, "resumed multipart object", e.read(t, key), data)
}

func testMultipartAbort(t *testing.T, e *env) {
	m := e.multipart(t)
	key := "mp/aborted.bin"
	id, err := m.CreateMultipart(e.ctx, key, storage.Metadata{})
	if err != nil {
		t.Fatal(err)
	}
	e.uploadPart(t, m, key, id, 1, payload(int(e.partSize()), 6))
	if err := m.AbortMultipart(e.ctx, key, id); err != nil {
		t.Fatalf("abort: %v", err)
	}
	_, err = m.ListParts(e.ctx, key, id)
	mustBeNotExist(t, "list parts of an aborted upload", err)
	_, err = e.reader(t).Stat(e.ctx, key)
	mustBeNotExist(t, "stat the key of an aborted upload", err)
	keys, _ := e.listAll(t, "", "", 0)
	e.checkKeys(t, keys, nil)
}

func testServerSideCopy(t *testing.T, e *env) {
	c, ok := e.st.(storage.ServerSideCopier)
	if !e.caps().ServerSideCopy {
		if ok {
			t.Fatalf("%s implements ServerSideCopier but Capabilities.ServerSideCopy is false", e.st)
		}
		t.Skipf("%s has no server-side copy", e.st)
	}
	if !ok {
		t.Fatalf("%s claims ServerSideCopy but does not implement storage.ServerSideCopier", e.st)
	}
	data := payload(70_000, 7)
	meta := storage.Metadata{}
	if !e.opts.NoMetadata {
		meta = storage.Metadata{ContentType: "text/x-copy", User: map[string]string{"copied": "yes"}}
	}
	e.put(t, "copy/src", data, meta)
	info := e.stat(t, "copy/src")
	// The copy is written with the caller's metadata, not the source's:
	// what a streamed copy would write, with the source-mtime marker.
	want := storage.Metadata{
		ContentType:          "text/x-replaced",
		User:                 map[string]string{"copied": "replaced", storage.ModTimeMetaKey: "1700000000"},
		StorageClass:         e.opts.CopyStorageClass,
		ServerSideEncryption: e.opts.CopyEncryption,
	}
	if _, err := c.CopyFrom(e.ctx, "copy/dst", e.st, "copy/src", info, want); err != nil {
		t.Fatalf("copy within the store: %v", err)
	}
	mustEqualBytes(t, "copied object", e.read(t, "copy/dst"), data)
	got := e.stat(t, "copy/dst")
	if !e.opts.NoMetadata {
		if got.Meta.ContentType != want.ContentType || got.Meta.User["copied"] != "replaced" || got.Meta.User[storage.ModTimeMetaKey] != "1700000000" {
			t.Errorf("copied metadata = %+v, want %+v", got.Meta, want)
		}
	}
	if cls := e.opts.CopyStorageClass; cls != "" && !strings.EqualFold(got.StorageClass, cls) {
		t.Errorf("copy's storage class = %q, want %q", got.StorageClass, cls)
	}
	if sse := e.opts.CopyEncryption; sse != "" && got.Meta.ServerSideEncryption != "" && got.Meta.ServerSideEncryption != sse {
		t.Errorf("copy's encryption = %q, want %q", got.Meta.ServerSideEncryption, sse)
	}
	if _, err := c.CopyFrom(e.ctx, "copy/x", foreignStore{}, "k", info, want); !errors.Is(err, storage.ErrNotSupported) {
		t.Errorf("copy from a foreign store: err %v, want ErrNotSupported", err)
	}
}

// foreignStore is a store no backend can copy from.
type foreignStore struct{}

func (foreignStore) String() string                     { return "foreign:" }
func (foreignStore) Capabilities() storage.Capabilities { return storage.Capabilities{} }

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

func containsAny(s, chars string) bool { return strings.ContainsAny(s, chars) }

func equalFoldHex(etag string, sum []byte) bool {
	return strings.EqualFold(strings.Trim(etag, `"`), hex.EncodeToString(sum))
}
