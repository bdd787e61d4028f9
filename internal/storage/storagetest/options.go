// Package storagetest is the conformance suite every storage backend runs.
//
// A backend opts in with one test:
//
//	func TestConformance(t *testing.T) {
//		srv := testenv.VersityGW(t)
//		storagetest.Run(t, func(t *testing.T) storage.Store {
//			return openFreshBucket(t, srv)
//		}, storagetest.Options{})
//	}
//
// Run calls open once per sub-test; each call must return a store with no
// objects in it. What a store cannot do is declared in Options or in its
// Capabilities, never by skipping sub-tests by hand.
package storagetest

import (
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
)

// Options declare what the suite must work around for one backend.
type Options struct {
	// Put stores an object through a side channel, for stores that cannot
	// write themselves (sources only: Azure, HTTP lists, UPYUN). Nil means
	// the store's own storage.Writer is used. The store given is the one
	// the sub-test opened.
	Put func(t *testing.T, st storage.Store, key string, data []byte, meta storage.Metadata)
	// NoMetadata is set when the store does not keep Content-* headers and
	// user metadata (local files, HTTP lists).
	NoMetadata bool
	// NoDirMarkers is set when keys ending in "/" cannot be stored (local).
	// It implies NoKeyDirConflicts.
	NoDirMarkers bool
	// NoKeyDirConflicts is set when a key cannot also be the "directory"
	// of another key ("a" beside "a/b"), as on stores that keep objects as
	// files (versitygw's posix backend).
	NoKeyDirConflicts bool
	// NoEmptyPrefixDelimiter is set when listing with a delimiter needs a
	// non-empty prefix. Rarely needed.
	NoEmptyPrefixDelimiter bool
	// MaxKeyLength is the longest key the store accepts, 0 meaning
	// storage.MaxKeyLength. Local stores also cap each path element at 255
	// bytes; the suite builds long keys from short elements.
	MaxKeyLength int
	// KeyUnsafe lists characters the store cannot hold in keys.
	KeyUnsafe string
	// PartSize is the part size used in multipart sub-tests; 0 means
	// Capabilities.MinPartSize (or 5 MiB when that is 0).
	PartSize int64
	// CopyStorageClass and CopyEncryption, when set, are requested on a
	// server-side copy, and the copy must report them back (the class in
	// ObjectInfo.StorageClass, the encryption in Meta when Stat reports
	// it): values the store accepts other than its default.
	CopyStorageClass string
	CopyEncryption   string
}
