//go:build !linux

package local

import (
	"os"

	"github.com/ossimport/ossimport/internal/storage"
)

// statAt is objectInfo of key, the file name in the open directory d.
func (s *Store) statAt(_ *os.File, _, key string) (storage.ObjectInfo, error) {
	return s.objectInfo(key)
}
