package local

import (
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ossimport/ossimport/internal/storage"
)

// statAt is objectInfo of key, the file name in the open directory d (nil
// when the directory is not open). A regular file is looked up relative
// to d (fstatat), not by its whole path from the root: listing a million
// files costs a sixth of the system time. Anything else (links, special
// files, errors) goes through objectInfo, which says what it is.
func (s *Store) statAt(d *os.File, name, key string) (storage.ObjectInfo, error) {
	if d == nil {
		return s.objectInfo(key)
	}
	var st unix.Stat_t
	if err := unix.Fstatat(int(d.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return s.objectInfo(key)
	}
	return storage.ObjectInfo{Key: key, Size: st.Size, ModTime: time.Unix(st.Mtim.Sec, st.Mtim.Nsec)}, nil
}
