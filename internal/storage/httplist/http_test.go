package httplist

import (
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/storagetest"
)

// TestConformance runs the storage suite against a real net/http server
// of files; objects are put by writing the file and appending its line to
// the list. A file server sets no metadata.
func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store {
		return newSite(t).store
	}, storagetest.Options{
		Put: func(t *testing.T, st storage.Store, key string, data []byte, _ storage.Metadata) {
			siteOf(t, st).put(t, key, data)
		},
		NoMetadata: true,
	})
}
