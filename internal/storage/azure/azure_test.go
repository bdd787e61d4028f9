package azure

import (
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/storagetest"
	"github.com/ossimport/ossimport/internal/testenv"
)

// TestConformance runs the storage suite against Azurite, a fresh
// container per sub-test; objects are uploaded with azblob directly.
//
// NoMetadata only because the suite's metadata sub-test uses the user
// metadata name "src-mtime", and Azure metadata names must be C#
// identifiers (letters, digits, '_'): Put Blob fails with 400
// InvalidMetadata. TestMetadataAndHeaders covers Stat's Content-*
// headers and metadata instead.
func TestConformance(t *testing.T) {
	srv := testenv.Azurite(t)
	storagetest.Run(t, func(t *testing.T) storage.Store {
		return openStore(t, srv, srv.CreateContainer(t, ""))
	}, storagetest.Options{Put: putBlob, NoMetadata: true})
}
