package local

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/ossimport/ossimport/internal/storage"
)

// ErrBrokenSymlink is wrapped by the error Open returns for a symbolic link
// whose target is missing or part of a loop. It does not wrap
// storage.ErrNotExist: the link exists and is listed, and the engine should
// report it as failed rather than as vanished.
var ErrBrokenSymlink = errors.New("broken symbolic link")

// mapErr maps a file system error to the storage sentinels, wrapping the
// original and naming the operation and key.
func mapErr(op, key string, err error) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// ENOENT already is storage.ErrNotExist.
		return fmt.Errorf("%s %q: %w", op, key, err)
	case errors.Is(err, syscall.ENOTDIR):
		// A path element is a file: the key cannot exist.
		return fmt.Errorf("%s %q: %w: %w", op, key, storage.ErrNotExist, err)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%s %q: %w: %w", op, key, storage.ErrAccessDenied, err)
	case errors.Is(err, syscall.ENAMETOOLONG):
		return fmt.Errorf("%s %q: %w: %w", op, key, storage.ErrInvalidKey, err)
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE),
		errors.Is(err, syscall.EAGAIN), errors.Is(err, syscall.EINTR):
		return storage.Transient(fmt.Errorf("%s %q: %w", op, key, err))
	}
	return fmt.Errorf("%s %q: %w", op, key, err)
}

// checkKey refuses keys that are not plain relative file paths or that
// name the store's own temporary files.
func checkKey(op, key string) error {
	if why := badKey(key); why != "" {
		return fmt.Errorf("%s %q: %w: %s", op, key, storage.ErrInvalidKey, why)
	}
	return nil
}

// badKey says why key cannot name a file under the root, or "".
func badKey(key string) string {
	switch {
	case key == "":
		return "the name is empty"
	case strings.HasPrefix(key, "/"):
		return "the name is an absolute path"
	case strings.IndexByte(key, 0) >= 0:
		return "the name contains a NUL byte"
	case filepath.Separator != '/' && strings.ContainsRune(key, filepath.Separator):
		return "the name contains the path separator " + string(filepath.Separator)
	case filepath.VolumeName(filepath.FromSlash(key)) != "":
		return "the name starts with a volume name"
	}
	for i, elem := range strings.Split(key, "/") {
		switch {
		case elem == "":
			return "the name has an empty path element (a doubled or trailing /)"
		case elem == "." || elem == "..":
			return "the name has a " + elem + " path element"
		case strings.HasPrefix(elem, tmpPrefix):
			return "names starting with " + tmpPrefix + " are reserved for temporary files"
		case i == 0 && elem == multipartDir:
			return multipartDir + " is reserved for multipart uploads"
		}
	}
	return ""
}
