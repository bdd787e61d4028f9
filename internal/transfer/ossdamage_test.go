package transfer

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/memory"
	"github.com/ossimport/ossimport/internal/storage/oss"
	"github.com/ossimport/ossimport/internal/storage/oss/osstest"
)

// TestOSSDamageCaughtWithoutSDKCRC: the OSS SDK no longer hashes our
// uploads (each byte is CRC-64'd once, by us); a PUT and a part damaged
// in transit are still caught, by our CRC-64 against the one OSS
// reports, and sent again (the object by the next attempt, the part
// within the same one); the objects end verified by the writes'
// answers alone.
func TestOSSDamageCaughtWithoutSDKCRC(t *testing.T) {
	srv := osstest.New(t, osstest.Options{})
	srv.CreateBucket("dst")
	dst, err := oss.New(t.Context(), storage.Spec{Type: "oss", Endpoint: srv.URL, Region: srv.Region, Bucket: "dst",
		AccessKey: srv.AccessKey, SecretKey: srv.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	src := memory.New("src")
	opts := testOptions()
	opts.PartSize = 100 << 10 // OSS's smallest part
	c := newCopier(t, dst, src, opts)
	for _, tc := range []struct {
		op, key  string
		size     int
		strategy string
		attempts int
	}{{"PutObject", "small.bin", 200_000, "put", 2}, {"UploadPart", "big.bin", 3<<20 + 5, "multipart", 1}} {
		data := randomBytes(tc.size, 3)
		obj := seed(t, src, tc.key, data, time.Unix(1_700_000_000, 0))
		srv.Inject(osstest.Fault{Op: tc.op, CorruptBody: true})
		res := c.Copy(t.Context(), obj)
		if res.Code != Succeed || res.Strategy != tc.strategy || res.Attempts != tc.attempts || res.Check != CheckCRC64 ||
			!strings.Contains(res.Detail, "verified=put") {
			t.Fatalf("%s: copy = %s via %q after %d attempts, check %q: %s; want Succeed after %d, crc64 by the write",
				tc.op, res.Code, res.Strategy, res.Attempts, res.Check, res.Detail, tc.attempts)
		}
		got, _, ok := srv.Object("dst", tc.key)
		if !ok || !bytes.Equal(got, data) {
			t.Fatalf("%s: the destination holds %d bytes that differ from the source", tc.op, len(got))
		}
	}
}
