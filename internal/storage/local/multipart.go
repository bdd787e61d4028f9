package local

import (
	"cmp"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc64"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ossimport/ossimport/internal/storage"
)

// Multipart limits. Parts are plain files, so any part size works; the
// maximum only keeps the engine's part arithmetic far from overflow.
const (
	maxParts    = 10000
	maxPartSize = 1 << 40
	uploadFile  = "upload" // in an upload's directory: "<mtime or ->\n<key>"
	partFile    = "part"   // part file names: part-<n>-<crc64 hex>-<md5 hex>
)

// errOtherKey is wrapped when an upload id belongs to another key.
var errOtherKey = errors.New("the upload is for another key")

// uploadDir returns the directory of an upload, or an error wrapping
// storage.ErrNotExist when id cannot be an upload id of this store.
func (s *Store) uploadDir(key, id string) (string, error) {
	if len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" {
		return "", fmt.Errorf("upload %q of %q: %w: malformed upload id", id, key, storage.ErrNotExist)
	}
	return filepath.Join(s.root, multipartDir, id), nil
}

// CreateMultipart implements storage.MultipartWriter. The upload keeps
// the key and the mtime from meta.User[storage.ModTimeMetaKey]; other
// metadata is not kept.
func (s *Store) CreateMultipart(ctx context.Context, key string, meta storage.Metadata) (string, error) {
	if err := checkKey("create multipart upload", key); err != nil {
		return "", err
	}
	id := randomHex(16)
	dir, _ := s.uploadDir(key, id)
	mtime := "-"
	if t := mtimeFrom(meta); !t.IsZero() {
		mtime = strconv.FormatInt(t.Unix(), 10)
	}
	desc := mtime + "\n" + key
	tmp, _, err := writeTemp(ctx, dir, strings.NewReader(desc), int64(len(desc)), true)
	if err == nil {
		err = commit(tmp, filepath.Join(dir, uploadFile), time.Time{})
	}
	if err != nil {
		return "", mapErr("create multipart upload", key, err)
	}
	return id, nil
}

// loadUpload returns the directory and recorded mtime of upload id, which
// must exist and belong to key.
func (s *Store) loadUpload(key, id string) (string, time.Time, error) {
	dir, err := s.uploadDir(key, id)
	if err != nil {
		return "", time.Time{}, err
	}
	desc, err := os.ReadFile(filepath.Join(dir, uploadFile))
	if err != nil {
		return "", time.Time{}, mapErr("upload "+strconv.Quote(id)+" of", key, err)
	}
	mtime, stored, ok := strings.Cut(string(desc), "\n")
	if !ok || stored != key {
		return "", time.Time{}, fmt.Errorf("upload %q of %q: %w: %w", id, key, storage.ErrNotExist, errOtherKey)
	}
	var t time.Time
	if sec, err := strconv.ParseInt(mtime, 10, 64); err == nil {
		t = time.Unix(sec, 0)
	}
	return dir, t, nil
}

// UploadPart implements storage.MultipartWriter. The part is written to a
// temporary file and renamed into place, so a listed part is complete.
func (s *Store) UploadPart(ctx context.Context, key, id string, n int, r io.Reader, size int64) (storage.Part, error) {
	op := fmt.Sprintf("upload part %d of", n)
	if err := checkKey(op, key); err != nil {
		return storage.Part{}, err
	}
	if n < 1 || n > maxParts {
		return storage.Part{}, fmt.Errorf("%s %q: part number must be 1 to %d", op, key, maxParts)
	}
	if size < 0 {
		return storage.Part{}, fmt.Errorf("%s %q: negative size %d", op, key, size)
	}
	dir, _, err := s.loadUpload(key, id)
	if err != nil {
		return storage.Part{}, err
	}
	tmp, sums, err := writeTemp(ctx, dir, r, size, false)
	if err != nil {
		return storage.Part{}, mapErr(op, key, err)
	}
	// Drop an earlier upload of the same part first: after a crash a part
	// may be missing, never doubled.
	removePart(dir, n)
	name := partName(n, sums)
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		_ = os.Remove(tmp)
		return storage.Part{}, mapErr(op, key, err)
	}
	syncDir(dir)
	return storage.Part{Number: n, Size: size, ETag: hex.EncodeToString(sums.MD5), Checksums: sums}, nil
}

func partName(n int, sums storage.Checksums) string {
	return fmt.Sprintf("%s-%05d-%016x-%x", partFile, n, sums.CRC64, sums.MD5)
}

// removePart deletes the stored copies of part n. It goes by the file
// names alone: the sizes readParts reads are not needed here, and reading
// them for every part made an upload of n parts stat n² files.
func removePart(dir string, n int) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if p, ok := parsePartName(e.Name()); ok && p.Number == n {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// storedPart is a part found in an upload's directory.
type storedPart struct {
	storage.Part
	file string
}

// readParts lists the parts in an upload's directory in part number order.
func readParts(dir string) ([]storedPart, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var parts []storedPart
	for _, e := range entries {
		p, ok := parsePartName(e.Name())
		if !ok {
			continue
		}
		p.file = filepath.Join(dir, p.file)
		fi, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		p.Size = fi.Size()
		parts = append(parts, p)
	}
	slices.SortFunc(parts, func(a, b storedPart) int { return cmp.Compare(a.Number, b.Number) })
	return parts, nil
}

func parsePartName(name string) (storedPart, bool) {
	f := strings.Split(name, "-")
	if len(f) != 4 || f[0] != partFile {
		return storedPart{}, false
	}
	n, err1 := strconv.Atoi(f[1])
	crc, err2 := strconv.ParseUint(f[2], 16, 64)
	sum, err3 := hex.DecodeString(f[3])
	if err1 != nil || err2 != nil || err3 != nil || len(sum) != md5.Size {
		return storedPart{}, false
	}
	sums := storage.Checksums{CRC64: crc, HasCRC64: true, MD5: sum}
	return storedPart{Part: storage.Part{Number: n, ETag: f[3], Checksums: sums}, file: name}, true
}

// ListParts implements storage.MultipartWriter.
func (s *Store) ListParts(ctx context.Context, key, id string) ([]storage.Part, error) {
	if err := checkKey("list parts of", key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list parts of %q: %w", key, err)
	}
	dir, _, err := s.loadUpload(key, id)
	if err != nil {
		return nil, err
	}
	stored, err := readParts(dir)
	if err != nil {
		return nil, mapErr("list parts of", key, err)
	}
	parts := make([]storage.Part, len(stored))
	for i, p := range stored {
		parts[i] = p.Part
	}
	return parts, nil
}

// CompleteMultipart implements storage.MultipartWriter. The parts named
// (in part number order) are concatenated into a temporary file that is
// renamed over the key; parts not named are discarded with the upload.
func (s *Store) CompleteMultipart(ctx context.Context, key, id string, parts []storage.Part) (storage.PutResult, error) {
	if err := checkKey("complete multipart upload of", key); err != nil {
		return storage.PutResult{}, err
	}
	dir, mtime, err := s.loadUpload(key, id)
	if err != nil {
		return storage.PutResult{}, err
	}
	files, err := chooseParts(dir, parts)
	if err != nil {
		return storage.PutResult{}, fmt.Errorf("complete multipart upload of %q: %w", key, err)
	}
	path := s.path(key)
	tmp, sums, err := fillTemp(filepath.Dir(path), true, func(w io.Writer) (storage.Checksums, error) { return concat(ctx, w, files) })
	if err != nil {
		return storage.PutResult{}, mapErr("complete multipart upload of", key, err)
	}
	if err := commit(tmp, path, mtime); err != nil {
		return storage.PutResult{}, mapErr("complete multipart upload of", key, err)
	}
	s.removeUpload(dir)
	return storage.PutResult{Checksums: sums}, nil
}

// chooseParts matches the caller's parts with the stored ones and returns
// the stored parts in part number order.
func chooseParts(dir string, parts []storage.Part) ([]storedPart, error) {
	if len(parts) == 0 {
		return nil, errors.New("no parts given")
	}
	stored, err := readParts(dir)
	if err != nil {
		return nil, err
	}
	byNumber := make(map[int]storedPart, len(stored))
	for _, p := range stored {
		byNumber[p.Number] = p
	}
	want := slices.Clone(parts)
	slices.SortFunc(want, func(a, b storage.Part) int { return cmp.Compare(a.Number, b.Number) })
	out := make([]storedPart, 0, len(want))
	for i, p := range want {
		sp, ok := byNumber[p.Number]
		switch {
		case i > 0 && want[i-1].Number == p.Number:
			return nil, fmt.Errorf("part %d is given twice", p.Number)
		case !ok:
			return nil, fmt.Errorf("part %d was not uploaded", p.Number)
		case p.ETag != "" && !strings.EqualFold(strings.Trim(p.ETag, `"`), sp.ETag):
			return nil, fmt.Errorf("part %d: ETag %q differs from the stored part's %q", p.Number, p.ETag, sp.ETag)
		case p.Size > 0 && p.Size != sp.Size:
			return nil, fmt.Errorf("part %d: size %d differs from the stored part's %d", p.Number, p.Size, sp.Size)
		}
		out = append(out, sp)
	}
	return out, nil
}

// concat appends the part files to w and returns the checksums of the
// whole.
func concat(ctx context.Context, w io.Writer, parts []storedPart) (storage.Checksums, error) {
	crc, sum := crc64.New(crcTable), md5.New()
	mw := io.MultiWriter(w, crc, sum)
	for _, p := range parts {
		if err := appendPart(ctx, mw, p); err != nil {
			return storage.Checksums{}, err
		}
	}
	return storage.Checksums{CRC64: crc.Sum64(), HasCRC64: true, MD5: sum.Sum(nil)}, nil
}

func appendPart(ctx context.Context, w io.Writer, p storedPart) error {
	pf, err := os.Open(p.file)
	if err != nil {
		return err
	}
	defer pf.Close()
	buf := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(buf)
	n, err := io.CopyBuffer(w, ctxReader{ctx: ctx, r: pf}, *buf)
	if err == nil && n != p.Size {
		err = fmt.Errorf("part %d changed size: %d bytes, %d expected", p.Number, n, p.Size)
	}
	return err
}

// AbortMultipart implements storage.MultipartWriter. Aborting an upload
// that is already gone is not an error; aborting another key's upload is.
func (s *Store) AbortMultipart(ctx context.Context, key, id string) error {
	if err := checkKey("abort multipart upload of", key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("abort multipart upload of %q: %w", key, err)
	}
	if _, err := s.uploadDir(key, id); err != nil {
		return err
	}
	dir, _, err := s.loadUpload(key, id)
	switch {
	case errors.Is(err, errOtherKey):
		return err
	case errors.Is(err, storage.ErrNotExist):
		return nil
	case err != nil:
		return err
	}
	s.removeUpload(dir)
	return nil
}

// removeUpload deletes an upload's directory, and the multipart directory
// when no upload is left.
func (s *Store) removeUpload(dir string) {
	_ = os.RemoveAll(dir)
	_ = os.Remove(filepath.Dir(dir))
}
