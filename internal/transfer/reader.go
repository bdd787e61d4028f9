package transfer

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"

	"github.com/ossimport/ossimport/internal/storage"
)

var (
	crcTable    = crc64.MakeTable(crc64.ECMA)
	crc32cTable = crc32.MakeTable(crc32.Castagnoli)
)

// errShortSource and errLongSource mean the source delivered fewer or more
// bytes than it announced: it changed while being read.
var (
	errShortSource = errors.New("source ended early")
	errLongSource  = errors.New("source is longer than its size")
)

// sourceReader reads exactly size bytes from a source object, hashing
// them, throttling them and reporting progress. Reading past size or
// ending before it yields a size mismatch.
type sourceReader struct {
	ctx     context.Context
	r       io.Reader
	left    int64
	crc     hash.Hash64 // nil when not wanted
	crc32c  hash.Hash32 // nil when not wanted
	md5     hash.Hash   // nil when not wanted
	limit   Limiter
	onBytes func(int64)
	err     error
	// ranged is set when r is a ranged read of exactly the bytes wanted:
	// nothing is read past them (the range ends there, whatever the
	// source holds after it), so that the last read is the one that
	// hands over the last byte.
	ranged bool
	// last, when set, is called when the last byte has been read and
	// before it is returned; its error fails the read, and the bytes of
	// that read are not returned (a source that changed while it was
	// read).
	last func() error
}

// hashes says which checksums a sourceReader computes as the bytes
// stream: each byte is hashed once per checksum wanted, and only the
// checksums something compares are wanted (Copier.hashes).
type hashes struct{ crc, crc32c, md5 bool }

func newSourceReader(ctx context.Context, r io.Reader, size int64, h hashes, limit Limiter, onBytes func(int64)) *sourceReader {
	sr := &sourceReader{ctx: ctx, r: r, left: size, limit: limit, onBytes: onBytes}
	if h.crc {
		sr.crc = crc64.New(crcTable)
	}
	if h.crc32c {
		sr.crc32c = crc32.New(crc32cTable)
	}
	if h.md5 {
		sr.md5 = md5.New()
	}
	return sr
}

func (s *sourceReader) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if s.left == 0 {
		return 0, s.atEnd()
	}
	if int64(len(p)) > s.left {
		p = p[:s.left]
	}
	if s.limit != nil && len(p) > s.limit.Burst() {
		p = p[:max(s.limit.Burst(), 1)]
	}
	n, err := s.r.Read(p)
	if n > 0 {
		s.consume(p[:n])
		if s.left == 0 && s.last != nil && s.err == nil {
			if lerr := s.last(); lerr != nil {
				// The final bytes are withheld: a reader given all the
				// bytes it expects may ignore an error that comes with them.
				s.err = lerr
				return 0, lerr
			}
		}
	}
	switch {
	case err == io.EOF && s.left > 0:
		s.err = fmt.Errorf("%w: %d bytes missing", errShortSource, s.left)
		return n, s.err
	case err == io.EOF:
		return n, s.atEnd()
	case err != nil:
		s.err = err
	}
	return n, err
}

func (s *sourceReader) consume(p []byte) {
	s.left -= int64(len(p))
	if s.crc != nil {
		s.crc.Write(p)
	}
	if s.crc32c != nil {
		s.crc32c.Write(p)
	}
	if s.md5 != nil {
		s.md5.Write(p)
	}
	if s.limit != nil {
		if err := s.limit.WaitN(s.ctx, len(p)); err != nil {
			s.err = err
		}
	}
	if s.onBytes != nil {
		s.onBytes(int64(len(p)))
	}
}

// atEnd checks that the source has nothing beyond size.
func (s *sourceReader) atEnd() error {
	if s.ranged {
		return io.EOF
	}
	var one [1]byte
	n, err := io.ReadFull(s.r, one[:])
	if n > 0 {
		s.err = errLongSource
		return s.err
	}
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		s.err = err
		return err
	}
	return io.EOF
}

// drain reads the source to its end, hashing it: for checksums of
// bytes that are not copied anywhere.
func (s *sourceReader) drain() error {
	buf := make([]byte, 64<<10)
	for {
		if _, err := s.Read(buf); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
	}
}

func (s *sourceReader) md5Sum() []byte {
	if s.md5 == nil {
		return nil
	}
	return s.md5.Sum(nil)
}

// sums returns the checksums computed so far.
func (s *sourceReader) sums() storage.Checksums {
	var c storage.Checksums
	if s.crc != nil {
		c.CRC64, c.HasCRC64 = s.crc.Sum64(), true
	}
	if s.crc32c != nil {
		c.CRC32C, c.HasCRC32C = s.crc32c.Sum32(), true
	}
	c.MD5 = s.md5Sum()
	return c
}

// partSum returns the checksums computed so far, as a part's.
func (s *sourceReader) partSum() partSum {
	c := s.sums()
	return partSum{crc: c.CRC64, hasCRC: c.HasCRC64, crc32c: c.CRC32C, hasCRC32C: c.HasCRC32C, md5: c.MD5}
}
