// Package storage is the seam between the migration engine and the stores it
// reads from and writes to. Every ossimport source (local disk, OSS, S3 and
// the S3-compatible clouds, Azure Blob, UPYUN, HTTP URL lists) and every
// destination implements a few small interfaces defined here; optional
// abilities (multipart upload, server-side copy) are separate interfaces found
// by type assertion and advertised as data in Capabilities.
//
// Keys are always '/'-separated and relative to the store's root: the bucket
// (or container, or local root directory) named in the Spec the store was
// opened with. Mapping srcPrefix to destPrefix is the engine's job, not the
// store's.
package storage

import (
	"context"
	"io"
	"time"
)

// Store is what every backend implements.
type Store interface {
	// String names the store for messages and logs, e.g. "s3://bucket" or
	// "local:/data/src/". It never contains credentials.
	String() string
	// Capabilities reports what the store can do. The value must not change
	// during the store's lifetime.
	Capabilities() Capabilities
}

// Lister lists objects page by page.
type Lister interface {
	// List returns one page of objects whose keys start with opts.Prefix.
	//
	// Objects come in ascending byte-wise (UTF-8) key order unless
	// Capabilities.UnsortedListing is set (HTTP URL lists keep file order).
	// When opts.Delimiter is set, keys containing the delimiter after the
	// prefix are rolled up into Prefixes (each ending in the delimiter),
	// which are also in ascending order; objects and prefixes together
	// never repeat across pages.
	//
	// Page.NextToken is empty on the last page. A token is a plain string
	// that may be checkpointed and passed back later, by another process,
	// to continue where the page ended; backends build it from the last key
	// where the store allows, so it does not expire. Directory markers
	// (keys ending in "/") are returned with IsDir set. A missing bucket or
	// root yields an error wrapping ErrBucketNotExist.
	List(ctx context.Context, opts ListOptions) (Page, error)
}

// ListOptions selects a page of a listing.
type ListOptions struct {
	Prefix    string // only keys starting with Prefix
	Delimiter string // "" for a flat listing, usually "/" to group by directory
	Token     string // "" to start, else a Page.NextToken of the same listing
	Limit     int    // maximum entries (objects plus prefixes); <= 0 means the backend's default (about 1000)
}

// Page is one page of a listing.
type Page struct {
	Objects   []ObjectInfo
	Prefixes  []string
	NextToken string
}

// Reader reads objects.
type Reader interface {
	// Stat returns the object's size, modification time, checksums and
	// metadata. A missing object yields an error wrapping ErrNotExist. An
	// object that must be restored before it can be read (OSS Archive,
	// S3 Glacier) is returned normally with Restore set; Open then fails
	// with ErrNeedsRestore.
	Stat(ctx context.Context, key string) (ObjectInfo, error)
	// Open returns a reader of length bytes starting at offset; length < 0
	// reads to the end. The caller closes it. A missing object yields
	// ErrNotExist, either from Open or from the first Read. Stores without
	// ranged reads (Capabilities.RangedRead false) only accept offset 0 and
	// length < 0 or the full size.
	Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error)
}

// Writer writes and deletes whole objects.
type Writer interface {
	// Put stores exactly size bytes read from r under key, with meta.
	// If r is an io.ReadSeeker the backend may rewind it to retry;
	// otherwise it must not retry a request whose body was partly sent and
	// returns the error instead, so the caller can reopen its source. The
	// result carries the checksums the store reported, for verification by
	// the caller; a backend that computes or checks checksums itself still
	// returns them.
	Put(ctx context.Context, key string, r io.Reader, size int64, meta Metadata) (PutResult, error)
	// Delete removes key. Deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// MultipartWriter uploads one object in parts. Part numbers start at 1.
// Parts may be uploaded concurrently and in any order. Every part but the
// last must be at least Capabilities.MinPartSize bytes.
type MultipartWriter interface {
	// CreateMultipart starts an upload and returns its id.
	CreateMultipart(ctx context.Context, key string, meta Metadata) (uploadID string, err error)
	// UploadPart stores part number n, exactly size bytes from r (same
	// retry rule as Writer.Put).
	UploadPart(ctx context.Context, key, uploadID string, n int, r io.Reader, size int64) (Part, error)
	// ListParts returns the parts the store holds for the upload, in part
	// number order, so an interrupted upload can resume. An unknown upload
	// yields an error wrapping ErrNotExist.
	ListParts(ctx context.Context, key, uploadID string) ([]Part, error)
	// CompleteMultipart assembles parts (in part number order) into the
	// object.
	CompleteMultipart(ctx context.Context, key, uploadID string, parts []Part) (PutResult, error)
	// AbortMultipart discards the upload and its parts.
	AbortMultipart(ctx context.Context, key, uploadID string) error
}

// PendingUpload is an unfinished multipart upload at a destination.
type PendingUpload struct {
	Key, UploadID string
	Initiated     time.Time
}

// UploadLister lists a destination's unfinished multipart uploads, so
// that those nobody will finish can be aborted (they are billed).
type UploadLister interface {
	// ListUploads returns the unfinished uploads of keys under prefix.
	ListUploads(ctx context.Context, prefix string) ([]PendingUpload, error)
}

// ServerSideCopier copies objects inside the store's service without the
// data passing through us.
type ServerSideCopier interface {
	// CopyFrom copies srcKey of src to dstKey of this store. It returns an
	// error wrapping ErrNotSupported when src is not a store this one can
	// copy from (another kind, endpoint or account); the caller then copies
	// the bytes itself. info is the source object as the caller saw it
	// (its size picks one copy request or a copy in parts). The copy is
	// written with meta in place of the source's metadata, as Put would
	// write it: content headers, user metadata (with ModTimeMetaKey, which
	// skip-existing reads back), StorageClass and ServerSideEncryption
	// (S3 MetadataDirective REPLACE, OSS x-oss-metadata-directive REPLACE).
	CopyFrom(ctx context.Context, dstKey string, src Store, srcKey string, info ObjectInfo, meta Metadata) (PutResult, error)
}

// Source is a store objects are migrated from.
type Source interface {
	Store
	Lister
	Reader
}

// Destination is a store objects are migrated to. It can be read back for
// verification and for skipping objects that already exist.
type Destination interface {
	Store
	Reader
	Writer
}

// ObjectInfo describes one object.
type ObjectInfo struct {
	Key          string
	Size         int64
	ModTime      time.Time // the store's last-modified time (for local files, the file's mtime)
	ETag         string    // without quotes; "" when the store has none
	Checksums    Checksums
	StorageClass string // as the store names it; "" when unknown or the default
	IsSymlink    bool   // local stores: the entry is a symbolic link to a file
	IsDir        bool   // a directory marker object (key ends in "/")
	Restore      bool   // the object must be restored before it can be read
	// Meta is filled by Stat. Listings leave it empty unless the store
	// returns metadata with the listing for free.
	Meta Metadata
}

// Checksums are the content checksums a store reported for an object or a
// part. A zero field means unknown.
type Checksums struct {
	CRC64 uint64 // CRC-64/ECMA-182 as OSS computes it (hash/crc64 with crc64.ECMA)
	// HasCRC64 tells a real zero CRC (the empty object) from an unknown one.
	HasCRC64 bool
	MD5      []byte // content MD5 (16 bytes), nil when unknown
	// CRC32C is the CRC-32C (Castagnoli) an S3 store computed of what it
	// received and checked against the one sent with the write
	// (x-amz-checksum-crc32c); HasCRC32C tells a real zero from unknown.
	CRC32C    uint32
	HasCRC32C bool
}

// Metadata is the object metadata carried between stores.
type Metadata struct {
	ContentType        string
	CacheControl       string
	ContentDisposition string
	ContentEncoding    string
	ContentLanguage    string
	Expires            string // HTTP date, passed through as text
	// User is user metadata without the store's prefix (x-oss-meta-,
	// x-amz-meta-); keys are lower case.
	User map[string]string
	// StorageClass requested on write; "" means the bucket default.
	StorageClass string
	// ServerSideEncryption requested on write, e.g. "AES256"; "" for none.
	ServerSideEncryption string
}

// PutResult is what the store reported after a write.
type PutResult struct {
	ETag      string
	Checksums Checksums
	VersionID string
}

// Part is one uploaded part of a multipart upload.
type Part struct {
	Number    int
	Size      int64
	ETag      string
	Checksums Checksums
}

// Capabilities describe a store as data so the engine can plan without
// trying and failing.
type Capabilities struct {
	CanList         bool
	CanWrite        bool
	RangedRead      bool  // Open honours offset and length
	UnsortedListing bool  // List does not return keys in byte order
	Multipart       bool  // the store implements MultipartWriter
	ServerSideCopy  bool  // the store implements ServerSideCopier
	MinPartSize     int64 // smallest part but the last, when Multipart
	MaxPartSize     int64
	MaxParts        int
	MaxObjectSize   int64 // 0 when unlimited
	// Checksums the store returns on writes and Stat.
	CRC64 bool // CRC-64/ECMA (OSS: x-oss-hash-crc64ecma)
	MD5   bool // content MD5 available for every object (not just single-part ETags)
	// CRC32C is set when a write of a CheckedBody (Put and UploadPart)
	// sends the body's CRC-32C for the store to check, and returns the
	// CRC-32C the store computed in PutResult or Part (S3's trailing
	// x-amz-checksum-crc32c). The body then needs no other hash.
	CRC32C bool
	// KnownCRC32C says whether a Put of a KnownCRC32CBody sends the
	// body's CRC-32C, known before the first byte, for the store to
	// check, and returns the CRC-32C the store computed (S3's
	// x-amz-checksum-crc32c request header): Yes, No (the zero value), or
	// Unknown until the store has seen a first answer (an S3 store with
	// destChecksum=auto learns it from its service). A Put that finds it
	// out may report either.
	KnownCRC32C Support
	// ETagIsMD5 is set when a single-part object's ETag is its content MD5.
	ETagIsMD5 bool
	// PreservesModTime is set when a write can set the object's ModTime
	// from Metadata.User[ModTimeMetaKey] (local destinations); other stores
	// keep that key as user metadata, which the engine reads back.
	PreservesModTime bool
	// DirMarkers is set when the store keeps keys ending in "/" as
	// objects of their own (object stores: directory markers); file
	// systems and URL lists have none, so a zero-byte "/" key from them,
	// or to them, is not copied.
	DirMarkers bool
	// InPlaceUpdates is set when an object can change while it is being
	// read (files on a local disk or NAS): the engine then checks the size
	// and modification time again after copying it.
	InPlaceUpdates bool
}

// ModTimeMetaKey is the user metadata key (without the store's prefix)
// under which the engine records a source object's modification time, as
// Unix seconds, on every upload. Skip-existing and audit compare with it.
const ModTimeMetaKey = "ossimport-src-mtime"

// Support is whether a store supports something it learns from its
// service as it goes.
type Support int32

// The values of Support; the zero value is No.
const (
	No Support = iota
	Unknown
	Yes
)

func (s Support) String() string {
	switch s {
	case Unknown:
		return "unknown"
	case Yes:
		return "yes"
	}
	return "no"
}
