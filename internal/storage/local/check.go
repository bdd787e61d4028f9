package local

import (
	"fmt"
	"strings"

	"github.com/ossimport/ossimport/internal/storage"
)

var _ storage.KeyChecker = (*Store)(nil)

// CheckKey implements storage.KeyChecker: a relative name that is a line
// of text (storage.CheckTextName). Object store limits such as OSS's
// 1023 bytes do not apply to folders; what a file system refuses (a
// trailing "/", "..") fails the write, which says why.
func (s *Store) CheckKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: the name is empty", storage.ErrInvalidKey)
	case strings.HasPrefix(key, "/"):
		return fmt.Errorf("%w: %q is an absolute path (check that srcPrefix ends with \"/\" and destPrefix does not start with \"/\")", storage.ErrInvalidKey, key)
	}
	return storage.CheckTextName(key)
}
