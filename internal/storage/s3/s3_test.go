package s3_test

import (
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/storagetest"
	"github.com/ossimport/ossimport/internal/testenv"
)

func TestConformance(t *testing.T) {
	srv := testenv.VersityGW(t)
	storagetest.Run(t, func(t *testing.T) storage.Store {
		return newStore(t, bucketConfig(srv, srv.CreateBucket(t, "")))
	}, storagetest.Options{})
}
