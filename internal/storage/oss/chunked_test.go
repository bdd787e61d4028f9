package oss_test

import (
	"errors"
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/oss"
	"github.com/ossimport/ossimport/internal/storage/oss/osstest"
)

// TestChunkedGet: a GetObject answer without Content-Length (chunked) is
// read to its end and CRC-checked, not taken for a 0-byte object.
func TestChunkedGet(t *testing.T) {
	srv := osstest.New(t, osstest.Options{})
	srv.CreateBucket("chunk")
	st, err := oss.New(t.Context(), specFor(srv, "chunk"))
	if err != nil {
		t.Fatal(err)
	}
	data := payload(200 << 10)
	mustPut(t, st, "obj", data, storage.Metadata{})

	srv.Inject(osstest.Fault{Op: "GetObject", Chunked: true})
	got, err := readAll(st, t.Context(), "obj", 0, -1)
	if err != nil || string(got) != string(data) {
		t.Fatalf("chunked read: %d bytes, %v; want %d bytes", len(got), err, len(data))
	}

	srv.Inject(osstest.Fault{Op: "GetObject", Chunked: true, CorruptBody: true})
	if _, err := readAll(st, t.Context(), "obj", 0, -1); !errors.Is(err, storage.ErrChecksumMismatch) {
		t.Fatalf("corrupt chunked read: %v, want a checksum mismatch", err)
	}
}
