// Package memory is an in-memory store: the reference implementation of
// the storage contract and the fake that engine tests use instead of a
// network service. It is registered as type "memory"; stores opened with
// the same Spec.Bucket share their objects within the process.
package memory

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"hash/crc64"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ossimport/ossimport/internal/storage"
)

var crcTable = crc64.MakeTable(crc64.ECMA)

func init() {
	storage.Register("memory", func(_ context.Context, spec storage.Spec) (storage.Store, error) {
		return Shared(spec.Bucket), nil
	})
}

var (
	sharedMu sync.Mutex
	shared   = map[string]*Store{}
)

// Shared returns the process-wide store called name, creating it empty.
func Shared(name string) *Store {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if st, ok := shared[name]; ok {
		return st
	}
	st := New(name)
	shared[name] = st
	return st
}

// Store keeps objects in a map. It is safe for concurrent use.
type Store struct {
	name    string
	mu      sync.Mutex
	objects map[string]object
	uploads map[string]*upload
	nextID  int
}

type object struct {
	data []byte
	info storage.ObjectInfo
}

type upload struct {
	key   string
	meta  storage.Metadata
	parts map[int][]byte
}

var (
	_ storage.Source           = (*Store)(nil)
	_ storage.Destination      = (*Store)(nil)
	_ storage.MultipartWriter  = (*Store)(nil)
	_ storage.ServerSideCopier = (*Store)(nil)
)

// New returns an empty store.
func New(name string) *Store {
	return &Store{name: name, objects: map[string]object{}, uploads: map[string]*upload{}}
}

// String implements storage.Store.
func (s *Store) String() string { return "memory:" + s.name }

// Capabilities implements storage.Store.
func (s *Store) Capabilities() storage.Capabilities {
	return storage.Capabilities{
		CanList: true, CanWrite: true, RangedRead: true, Multipart: true, ServerSideCopy: true,
		DirMarkers:  true,
		MinPartSize: 1, MaxPartSize: 5 << 30, MaxParts: 10000,
		CRC64: true, MD5: true, ETagIsMD5: true, PreservesModTime: true,
	}
}

// List implements storage.Lister. The token is the last key or prefix
// returned.
func (s *Store) List(_ context.Context, opts storage.ListOptions) (storage.Page, error) {
	limit := opts.Limit
	if limit <= 0 {
		limit = 1000
	}
	s.mu.Lock()
	keys := slices.Sorted(maps.Keys(s.objects))
	s.mu.Unlock()
	var page storage.Page
	last := ""
	for _, k := range keys {
		if !strings.HasPrefix(k, opts.Prefix) || k <= opts.Token {
			continue
		}
		entry, isPrefix := k, false
		if opts.Delimiter != "" {
			if i := strings.Index(k[len(opts.Prefix):], opts.Delimiter); i >= 0 {
				entry, isPrefix = k[:len(opts.Prefix)+i+len(opts.Delimiter)], true
			}
		}
		if entry == last || entry <= opts.Token {
			continue
		}
		if len(page.Objects)+len(page.Prefixes) == limit {
			page.NextToken = last
			break
		}
		last = entry
		if isPrefix {
			page.Prefixes = append(page.Prefixes, entry)
			continue
		}
		info, err := s.Stat(context.Background(), k)
		if err == nil {
			page.Objects = append(page.Objects, info)
		}
	}
	return page, nil
}

// Stat implements storage.Reader.
func (s *Store) Stat(_ context.Context, key string) (storage.ObjectInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[key]
	if !ok {
		return storage.ObjectInfo{}, fmt.Errorf("stat %q: %w", key, storage.ErrNotExist)
	}
	info := o.info
	info.Meta.User = maps.Clone(o.info.Meta.User)
	return info, nil
}

// Open implements storage.Reader.
func (s *Store) Open(_ context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	s.mu.Lock()
	o, ok := s.objects[key]
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("open %q: %w", key, storage.ErrNotExist)
	}
	size := int64(len(o.data))
	if offset < 0 || offset > size {
		return nil, fmt.Errorf("open %q: offset %d outside object of %d bytes", key, offset, size)
	}
	end := size
	if length >= 0 && offset+length < size {
		end = offset + length
	}
	return io.NopCloser(bytes.NewReader(o.data[offset:end])), nil
}

// Put implements storage.Writer.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64, meta storage.Metadata) (storage.PutResult, error) {
	data, err := readExactly(ctx, r, size)
	if err != nil {
		return storage.PutResult{}, fmt.Errorf("put %q: %w", key, err)
	}
	return s.store(key, data, meta), nil
}

func (s *Store) store(key string, data []byte, meta storage.Metadata) storage.PutResult {
	sum := md5.Sum(data)
	res := storage.PutResult{
		ETag:      hex.EncodeToString(sum[:]),
		Checksums: storage.Checksums{CRC64: crc64.Checksum(data, crcTable), HasCRC64: true, MD5: sum[:]},
	}
	mtime := time.Now()
	if sec, err := strconv.ParseInt(meta.User[storage.ModTimeMetaKey], 10, 64); err == nil {
		mtime = time.Unix(sec, 0)
	}
	meta.User = maps.Clone(meta.User)
	info := storage.ObjectInfo{
		Key: key, Size: int64(len(data)), ModTime: mtime, ETag: res.ETag, Checksums: res.Checksums,
		StorageClass: meta.StorageClass, IsDir: strings.HasSuffix(key, "/"), Meta: meta,
	}
	s.mu.Lock()
	s.objects[key] = object{data: data, info: info}
	s.mu.Unlock()
	return res
}

// readExactly reads size bytes and fails when r has fewer or more.
func readExactly(ctx context.Context, r io.Reader, size int64) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	data := make([]byte, size)
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, fmt.Errorf("read %d bytes: %w", size, err)
	}
	if n, _ := r.Read(make([]byte, 1)); n > 0 {
		return nil, fmt.Errorf("reader has more than the announced %d bytes", size)
	}
	return data, nil
}

// Delete implements storage.Writer.
func (s *Store) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	delete(s.objects, key)
	s.mu.Unlock()
	return nil
}

// CopyFrom implements storage.ServerSideCopier for memory sources; the
// copy is stored with meta.
func (s *Store) CopyFrom(ctx context.Context, dstKey string, src storage.Store, srcKey string, _ storage.ObjectInfo, meta storage.Metadata) (storage.PutResult, error) {
	from, ok := src.(*Store)
	if !ok {
		return storage.PutResult{}, fmt.Errorf("copy %q from %s: %w", dstKey, src, storage.ErrNotSupported)
	}
	from.mu.Lock()
	o, ok := from.objects[srcKey]
	from.mu.Unlock()
	if !ok {
		return storage.PutResult{}, fmt.Errorf("copy %q: source %q: %w", dstKey, srcKey, storage.ErrNotExist)
	}
	return s.store(dstKey, o.data, meta), nil
}

// CheckKey implements storage.KeyChecker with OSS's name rules, as the
// memory store stands in for OSS in engine tests.
func (s *Store) CheckKey(key string) error { return storage.CheckOSSKey(key) }
