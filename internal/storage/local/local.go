// Package local is the local file system store: srcType=local and
// destType=local. Spec.Bucket is the root directory, an absolute path, and
// a key is the '/'-separated path of a file relative to it.
//
// # Listing
//
// List walks the tree under the root depth first and returns files in
// ascending byte order of their keys. Each directory is read whole (names
// only), sorted by name for files and name+"/" for directories, so that
// "a-b" comes before "a/b" and "a.txt" before the directory "a"; only one
// sorted directory per level of the current path is held in memory. The
// page token is the last key returned: a new Store, in another process,
// resumes by walking down to that key's place. A Store also keeps the walk
// of up to a few recent listings so that paging through a huge directory
// does not re-read it for every page; that cache is an optimisation only.
// Files are looked up (size, mtime) relative to their open directory, a
// batch ahead of the caller by a few goroutines at once (lookahead.go).
//
// What is listed:
//   - regular files, with their size and mtime;
//   - empty directories produce nothing, and with Delimiter "/" a
//     subdirectory becomes a prefix only when it holds something listable;
//   - sockets, FIFOs and devices are skipped silently;
//   - names that are not valid UTF-8 are listed as they are (the engine
//     rejects them with storage.CheckOSSKey);
//   - a symbolic link to a regular file is listed with IsSymlink and the
//     target's size and mtime, whatever Spec.AllowSymlinks says, so the
//     engine can report it; a broken link (or a link loop) is listed with
//     IsSymlink, size 0 and the link's own mtime, and Open fails for it
//     with an error wrapping ErrBrokenSymlink;
//   - a symbolic link to a directory is never followed and never listed,
//     which also makes link loops harmless; a link to a socket, FIFO or
//     device is skipped like its target.
//
// Spec.AllowSymlinks (isAllowSymbolicLink) only changes Open: when it is
// false, opening a symbolic link fails with an error wrapping
// storage.ErrNotSupported, so a link is never uploaded by mistake.
//
// Files whose names start with ".ossimport-tmp-" (writes in progress) and
// the directory ".ossimport-multipart" at the root (multipart uploads in
// progress) are never listed, and keys naming them are refused.
//
// # Writing
//
// Put writes to a temporary file in the target's directory, syncs it and
// renames it over the target, so a reader never sees a partial file and a
// failed write leaves nothing behind. Parent directories are created as
// needed; Delete removes the file and then the directories it leaves
// empty, up to (not including) the root. The mtime is set from
// meta.User[storage.ModTimeMetaKey] (Unix seconds) when present and an
// integer. Keys are checked lexically: absolute keys, empty elements and
// "." or ".." elements are refused with storage.ErrInvalidKey, so a write
// never leaves the root through its key (symbolic links already present in
// the destination tree are trusted).
//
// Checksums: Put, UploadPart, CompleteMultipart and CopyFrom return the
// CRC-64/ECMA and MD5 of the bytes they wrote, but Stat does not read
// files, so Capabilities.CRC64 and MD5 are false: the store cannot report
// checksums for every object.
//
// Multipart uploads keep their parts as files under
// <root>/.ossimport-multipart/<upload id>/ (the part's CRC-64 and MD5 are
// part of its file name); CompleteMultipart concatenates them into a
// temporary file and renames it over the target.
package local

import (
	"context"
	"fmt"
	"hash/crc64"
	"path/filepath"
	"sync"

	"github.com/ossimport/ossimport/internal/storage"
)

// Reserved names inside the root.
const (
	tmpPrefix    = ".ossimport-tmp-"
	multipartDir = ".ossimport-multipart"
)

var crcTable = crc64.MakeTable(crc64.ECMA)

func init() {
	storage.Register("local", open)
}

// Compile-time checks of the interfaces the store implements.
var (
	_ storage.Source           = (*Store)(nil)
	_ storage.Destination      = (*Store)(nil)
	_ storage.MultipartWriter  = (*Store)(nil)
	_ storage.ServerSideCopier = (*Store)(nil)
)

// Options configure a Store.
type Options struct {
	// AllowSymlinks lets Open read symbolic links to files
	// (isAllowSymbolicLink). Listing is the same either way.
	AllowSymlinks bool
}

// Store is a directory tree on the local file system. It is safe for
// concurrent use.
type Store struct {
	name string // the root as given, for String
	root string // the cleaned absolute root
	opts Options

	walksMu sync.Mutex
	walks   []*cachedWalk // recent listings, oldest first
}

func open(_ context.Context, spec storage.Spec) (storage.Store, error) {
	return New(spec.Bucket, Options{AllowSymlinks: spec.AllowSymlinks})
}

// New returns a store rooted at root, an absolute directory. The directory
// need not exist yet: writes create it, and List reports it missing with
// storage.ErrBucketNotExist.
func New(root string, opts Options) (*Store, error) {
	if root == "" || !filepath.IsAbs(root) {
		return nil, fmt.Errorf("open local store: root %q is not an absolute path", root)
	}
	return &Store{name: root, root: filepath.Clean(root), opts: opts}, nil
}

// String returns "local:" followed by the root.
func (s *Store) String() string { return "local:" + s.name }

// Root returns the cleaned root directory.
func (s *Store) Root() string { return s.root }

// Capabilities implements storage.Store.
func (s *Store) Capabilities() storage.Capabilities {
	return storage.Capabilities{
		CanList:          true,
		CanWrite:         true,
		RangedRead:       true,
		Multipart:        true,
		ServerSideCopy:   true,
		MinPartSize:      1,
		MaxPartSize:      maxPartSize,
		MaxParts:         maxParts,
		PreservesModTime: true,
		// Files can be rewritten while they are read.
		InPlaceUpdates: true,
	}
}

// path returns the file path of a key already checked by checkKey.
func (s *Store) path(key string) string {
	return filepath.Join(s.root, filepath.FromSlash(key))
}
