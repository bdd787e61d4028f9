package s3_test

import (
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/storagetest"
	"github.com/ossimport/ossimport/internal/testenv"
)

// conformanceOptions works around versitygw's posix backend, which stores
// objects as files and so cannot hold a key that is also the "directory" of
// another ("a" beside "a/b"). The suite only drops such keys for stores
// without directory markers, so the flag is set even though markers work;
// TestListResumeNewStore checks them.
var conformanceOptions = storagetest.Options{NoKeyDirConflicts: true}

// TestConformance runs the suite with MD5 (the default off AWS) and with
// trailing CRC-32Cs (destChecksum=crc32c).
func TestConformance(t *testing.T) {
	srv := testenv.VersityGW(t)
	for _, crc32c := range []bool{false, true} {
		t.Run(map[bool]string{false: "MD5", true: "CRC32C"}[crc32c], func(t *testing.T) {
			storagetest.Run(t, func(t *testing.T) storage.Store {
				cfg := bucketConfig(srv, srv.CreateBucket(t, ""))
				cfg.TrailingCRC32C = crc32c
				return newStore(t, cfg)
			}, conformanceOptions)
		})
	}
}
