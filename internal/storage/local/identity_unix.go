//go:build linux || darwin || freebsd || netbsd || openbsd

package local

import (
	"fmt"
	"io/fs"
	"syscall"
	"time"
)

// sysIdentity is the ctime, device and inode of fi, or "".
func sysIdentity(fi fs.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	ctime := time.Unix(statCtime(st)).UTC().Format("2006-01-02T15:04:05.000000000Z")
	return fmt.Sprintf("ctime %s, inode %d:%d", ctime, uint64(st.Dev), uint64(st.Ino))
}
