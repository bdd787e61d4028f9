package oss_test

import (
	"bytes"
	"hash/crc64"
	"io"
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/oss/osstest"
)

// checked is a body its writer hashes and checks itself.
type checked struct{ io.Reader }

func (checked) CheckedByCaller() {}

// A storage.CheckedBody is not CRC-checked by the SDK (the caller hashes
// it once and compares): a body damaged in transit is stored, and the
// CRC-64 OSS reports, returned to the caller, is the damaged one. Other
// bodies are still checked by the store.
func TestCheckedBodyLeavesTheCRCToTheCaller(t *testing.T) {
	srv := osstest.New(t, osstest.Options{})
	st := openFresh(t, srv)
	ctx := t.Context()
	data := payload(200_000)
	want := crc64.Checksum(data, crc64.MakeTable(crc64.ECMA))

	srv.Inject(osstest.Fault{Op: "PutObject", CorruptBody: true})
	res, err := st.Put(ctx, "k", checked{bytes.NewReader(data)}, int64(len(data)), storage.Metadata{})
	if err != nil {
		t.Fatalf("put of a checked body damaged in transit: %v (the SDK checked it)", err)
	}
	if !res.Checksums.HasCRC64 || res.Checksums.CRC64 == want {
		t.Fatalf("put result %+v: want OSS's CRC-64 of the damaged body, not %d", res.Checksums, want)
	}
	res, err = st.Put(ctx, "k", checked{bytes.NewReader(data)}, int64(len(data)), storage.Metadata{})
	if err != nil || res.Checksums.CRC64 != want {
		t.Fatalf("put of a checked body: %+v, %v; want CRC-64 %d", res.Checksums, err, want)
	}

	id, err := st.CreateMultipart(ctx, "mp", storage.Metadata{})
	if err != nil {
		t.Fatal(err)
	}
	srv.Inject(osstest.Fault{Op: "UploadPart", CorruptBody: true})
	p, err := st.UploadPart(ctx, "mp", id, 1, checked{bytes.NewReader(data)}, int64(len(data)))
	if err != nil || p.Checksums.CRC64 == want {
		t.Fatalf("part of a checked body damaged in transit: %+v, %v; want stored with OSS's CRC-64", p.Checksums, err)
	}
	srv.Inject(osstest.Fault{Op: "UploadPart", CorruptBody: true})
	_, err = st.UploadPart(ctx, "mp", id, 1, onlyReader{bytes.NewReader(data)}, int64(len(data)))
	wantErr(t, "part damaged in transit", err, storage.ErrChecksumMismatch, true)
}
