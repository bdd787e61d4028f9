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

func TestConformance(t *testing.T) {
	srv := testenv.VersityGW(t)
	storagetest.Run(t, func(t *testing.T) storage.Store {
		return newStore(t, bucketConfig(srv, srv.CreateBucket(t, "")))
	}, conformanceOptions)
}
