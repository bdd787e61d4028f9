package memory

import (
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store { return New(t.Name()) }, storagetest.Options{PartSize: 64 << 10, CopyStorageClass: "IA", CopyEncryption: "AES256"})
}
