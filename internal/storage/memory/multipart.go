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

	"github.com/ossimport/ossimport/internal/storage"
)

// CreateMultipart implements storage.MultipartWriter.
func (s *Store) CreateMultipart(_ context.Context, key string, meta storage.Metadata) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	id := "upload-" + strconv.Itoa(s.nextID)
	s.uploads[id] = &upload{key: key, meta: meta, parts: map[int][]byte{}}
	return id, nil
}

func (s *Store) upload(key, id string) (*upload, error) {
	u, ok := s.uploads[id]
	if !ok || u.key != key {
		return nil, fmt.Errorf("upload %q of %q: %w", id, key, storage.ErrNotExist)
	}
	return u, nil
}

// UploadPart implements storage.MultipartWriter.
func (s *Store) UploadPart(ctx context.Context, key, id string, n int, r io.Reader, size int64) (storage.Part, error) {
	data, err := readExactly(ctx, r, size)
	if err != nil {
		return storage.Part{}, fmt.Errorf("upload part %d of %q: %w", n, key, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.upload(key, id)
	if err != nil {
		return storage.Part{}, err
	}
	u.parts[n] = data
	return partOf(n, data), nil
}

func partOf(n int, data []byte) storage.Part {
	sum := md5.Sum(data)
	return storage.Part{
		Number: n, Size: int64(len(data)), ETag: hex.EncodeToString(sum[:]),
		Checksums: storage.Checksums{CRC64: crc64.Checksum(data, crcTable), HasCRC64: true, MD5: sum[:]},
	}
}

// ListParts implements storage.MultipartWriter.
func (s *Store) ListParts(_ context.Context, key, id string) ([]storage.Part, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.upload(key, id)
	if err != nil {
		return nil, err
	}
	var parts []storage.Part
	for _, n := range slices.Sorted(maps.Keys(u.parts)) {
		parts = append(parts, partOf(n, u.parts[n]))
	}
	return parts, nil
}

// CompleteMultipart implements storage.MultipartWriter.
func (s *Store) CompleteMultipart(_ context.Context, key, id string, parts []storage.Part) (storage.PutResult, error) {
	s.mu.Lock()
	u, err := s.upload(key, id)
	if err != nil {
		s.mu.Unlock()
		return storage.PutResult{}, err
	}
	var buf bytes.Buffer
	for i, p := range parts {
		data, ok := u.parts[p.Number]
		if !ok || (i > 0 && p.Number <= parts[i-1].Number) {
			s.mu.Unlock()
			return storage.PutResult{}, fmt.Errorf("complete %q: part %d missing or out of order", key, p.Number)
		}
		buf.Write(data)
	}
	delete(s.uploads, id)
	s.mu.Unlock()
	return s.store(key, buf.Bytes(), u.meta), nil
}

// AbortMultipart implements storage.MultipartWriter.
func (s *Store) AbortMultipart(_ context.Context, key, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.upload(key, id); err != nil {
		return err
	}
	delete(s.uploads, id)
	return nil
}
