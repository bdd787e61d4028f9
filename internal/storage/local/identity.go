package local

import (
	"context"
	"fmt"
	"os"
)

// FileIdentity describes the file at key as it is now, in a form that
// changes whenever the file's contents may have: its size, mtime, ctime
// (status change time, which a write moves and which cannot be set back
// the way mtime can, e.g. by rsync --inplace) and device and inode (a
// file replaced by a rename). Two equal identities, taken before and
// after reading the file, mean it was read whole from one version. A
// symbolic link is described by its target. The text is for comparing
// and for messages; it is not parsed.
//
// Timestamps have the file system's granularity (the kernel's clock
// tick for ctime on many Linux file systems), so a write landing in the
// same tick as the previous change can go unseen.
func (s *Store) FileIdentity(ctx context.Context, key string) (string, error) {
	if err := checkKey("stat", key); err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("stat %q: %w", key, err)
	}
	fi, err := os.Stat(s.path(key))
	if err != nil {
		return "", mapErr("stat", key, err)
	}
	id := fmt.Sprintf("size %d, mtime %s", fi.Size(), fi.ModTime().UTC().Format("2006-01-02T15:04:05.000000000Z"))
	if sys := sysIdentity(fi); sys != "" {
		id += ", " + sys
	}
	return id, nil
}
