package local

import (
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store {
		st, err := storage.Open(t.Context(), storage.Spec{Type: "local", Bucket: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}, storagetest.Options{NoMetadata: true, NoDirMarkers: true, PartSize: 64 << 10})
}
