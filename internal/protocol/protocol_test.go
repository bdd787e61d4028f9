package protocol

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/transfer"
)

// TestObjectResultKeepsChecksAndChecksums: a result sent over the bus
// comes back with the check it passed and the checksums computed while
// copying, which copied.csv and audit.log are written from.
func TestObjectResultKeepsChecksAndChecksums(t *testing.T) {
	in := transfer.Result{Object: transfer.Object{Key: "k"}, Code: transfer.Succeed, Size: 3, Check: transfer.CheckCRC64,
		Checksums: storage.Checksums{CRC64: 0, HasCRC64: true, CRC32C: 0, HasCRC32C: true, MD5: []byte{1, 2, 3}}}
	data, err := json.Marshal(FromResult(in, time.Unix(1, 0)))
	if err != nil {
		t.Fatal(err)
	}
	var wire ObjectResult
	if err := json.Unmarshal(data, &wire); err != nil {
		t.Fatal(err)
	}
	out := wire.Result()
	if out.Check != transfer.CheckCRC64 || !out.Checksums.HasCRC64 || out.Checksums.CRC64 != 0 ||
		!out.Checksums.HasCRC32C || !bytes.Equal(out.Checksums.MD5, []byte{1, 2, 3}) {
		t.Fatalf("after the wire: check %q, checksums %+v", out.Check, out.Checksums)
	}
	var old ObjectResult // a message from a worker without the fields
	if err := json.Unmarshal([]byte(`{"o":{"k":"k","s":3},"c":"Succeed","t":"2026-01-01T00:00:00Z"}`), &old); err != nil {
		t.Fatal(err)
	}
	if r := old.Result(); r.Check != "" || r.Checksums.HasCRC64 || r.Checksums.HasCRC32C || r.Checksums.MD5 != nil {
		t.Fatalf("old message: %+v", r)
	}
}
