package storagetest

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/crc64"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/storage"
)

// Run runs every conformance sub-test against stores made by open.
func Run(t *testing.T, open func(t *testing.T) storage.Store, opts Options) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(*testing.T, *env)
	}{
		{"PutGet", testPutGet},
		{"RangedGet", testRangedGet},
		{"ZeroByte", testZeroByte},
		{"ListOrder", testListOrder},
		{"ListPagination", testListPagination},
		{"ListResumeFromToken", testListResume},
		{"ListPrefix", testListPrefix},
		{"ListDelimiter", testListDelimiter},
		{"DirMarker", testDirMarker},
		{"DirKeys", testDirKeys},
		{"SpecialKeys", testSpecialKeys},
		{"UnicodeKeys", testUnicodeKeys},
		{"LongKey", testLongKey},
		{"Metadata", testMetadata},
		{"NotFound", testNotFound},
		{"Overwrite", testOverwrite},
		{"Delete", testDelete},
		{"Checksums", testChecksums},
		{"CRC32C", testCRC32C},
		{"Multipart", testMultipart},
		{"MultipartResume", testMultipartResume},
		{"MultipartAbort", testMultipartAbort},
		{"ServerSideCopy", testServerSideCopy},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := open(t)
			tc.fn(t, &env{st: st, opts: opts, ctx: t.Context()})
		})
	}
}

// env is what one sub-test works with.
type env struct {
	st   storage.Store
	opts Options
	ctx  context.Context
}

func (e *env) caps() storage.Capabilities { return e.st.Capabilities() }

// put stores an object through the store or the side channel.
func (e *env) put(t *testing.T, key string, data []byte, meta storage.Metadata) {
	t.Helper()
	if e.opts.Put != nil {
		e.opts.Put(t, e.st, key, data, meta)
		return
	}
	w := e.writer(t)
	if _, err := w.Put(e.ctx, key, bytes.NewReader(data), int64(len(data)), meta); err != nil {
		t.Fatalf("put %q: %v", key, err)
	}
}

func (e *env) writer(t *testing.T) storage.Writer {
	t.Helper()
	w, ok := e.st.(storage.Writer)
	if !ok || !e.caps().CanWrite {
		t.Skipf("%s cannot write and Options.Put is nil", e.st)
	}
	return w
}

func (e *env) reader(t *testing.T) storage.Reader {
	t.Helper()
	r, ok := e.st.(storage.Reader)
	if !ok {
		t.Fatalf("%s does not implement storage.Reader", e.st)
	}
	return r
}

func (e *env) lister(t *testing.T) storage.Lister {
	t.Helper()
	l, ok := e.st.(storage.Lister)
	if !ok || !e.caps().CanList {
		t.Skipf("%s cannot list", e.st)
	}
	return l
}

func (e *env) multipart(t *testing.T) storage.MultipartWriter {
	t.Helper()
	m, ok := e.st.(storage.MultipartWriter)
	if !e.caps().Multipart {
		if ok {
			t.Fatalf("%s implements MultipartWriter but Capabilities.Multipart is false", e.st)
		}
		t.Skipf("%s has no multipart upload", e.st)
	}
	if !ok {
		t.Fatalf("%s claims Multipart but does not implement storage.MultipartWriter", e.st)
	}
	return m
}

// read returns the whole object.
func (e *env) read(t *testing.T, key string) []byte {
	t.Helper()
	return e.readRange(t, key, 0, -1)
}

func (e *env) readRange(t *testing.T, key string, off, n int64) []byte {
	t.Helper()
	rc, err := e.reader(t).Open(e.ctx, key, off, n)
	if err != nil {
		t.Fatalf("open %q [%d,%d): %v", key, off, n, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %q [%d,%d): %v", key, off, n, err)
	}
	return data
}

func (e *env) stat(t *testing.T, key string) storage.ObjectInfo {
	t.Helper()
	info, err := e.reader(t).Stat(e.ctx, key)
	if err != nil {
		t.Fatalf("stat %q: %v", key, err)
	}
	return info
}

// listAll lists every page and fails on repeated or unordered entries.
func (e *env) listAll(t *testing.T, prefix, delim string, limit int) (keys, prefixes []string) {
	t.Helper()
	l := e.lister(t)
	token := ""
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatalf("listing %q never ends", prefix)
		}
		page, err := l.List(e.ctx, storage.ListOptions{Prefix: prefix, Delimiter: delim, Token: token, Limit: limit})
		if err != nil {
			t.Fatalf("list prefix=%q delimiter=%q token=%q: %v", prefix, delim, token, err)
		}
		if limit > 0 && len(page.Objects)+len(page.Prefixes) > limit {
			t.Errorf("page has %d entries, limit %d", len(page.Objects)+len(page.Prefixes), limit)
		}
		for _, o := range page.Objects {
			keys = append(keys, o.Key)
		}
		prefixes = append(prefixes, page.Prefixes...)
		if page.NextToken == "" {
			break
		}
		if page.NextToken == token {
			t.Fatalf("list returned the same token %q twice", token)
		}
		token = page.NextToken
	}
	return keys, prefixes
}

// payload returns n deterministic pseudo-random bytes.
func payload(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func crc(data []byte) uint64 { return crc64.Checksum(data, crc64.MakeTable(crc64.ECMA)) }

func mustEqualBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: got %d bytes (crc %x), want %d bytes (crc %x)", what, len(got), crc(got), len(want), crc(want))
	}
}

func mustBeNotExist(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want one wrapping storage.ErrNotExist", what)
	}
	if !errors.Is(err, storage.ErrNotExist) {
		t.Fatalf("%s: error %q does not wrap storage.ErrNotExist", what, err)
	}
}

func testPutGet(t *testing.T, e *env) {
	data := payload(300_000, 1)
	before := time.Now().Add(-time.Hour)
	e.put(t, "dir/hello.bin", data, storage.Metadata{})
	mustEqualBytes(t, "read back", e.read(t, "dir/hello.bin"), data)
	info := e.stat(t, "dir/hello.bin")
	if info.Key != "dir/hello.bin" {
		t.Errorf("stat key = %q, want dir/hello.bin", info.Key)
	}
	if info.Size != int64(len(data)) {
		t.Errorf("stat size = %d, want %d", info.Size, len(data))
	}
	if info.ModTime.Before(before) || info.ModTime.After(time.Now().Add(time.Hour)) {
		t.Errorf("stat mtime = %v, not close to now", info.ModTime)
	}
}

func testRangedGet(t *testing.T, e *env) {
	if !e.caps().RangedRead {
		t.Skipf("%s has no ranged reads", e.st)
	}
	data := payload(100_000, 2)
	e.put(t, "range.bin", data, storage.Metadata{})
	cases := []struct{ off, n int64 }{{0, 1}, {0, 100}, {1, 99}, {50_000, 10_000}, {99_999, 1}, {99_000, -1}, {0, -1}, {12_345, 100_000 - 12_345}}
	for _, c := range cases {
		want := data[c.off:]
		if c.n >= 0 {
			want = data[c.off : c.off+c.n]
		}
		mustEqualBytes(t, fmt.Sprintf("range [%d,+%d)", c.off, c.n), e.readRange(t, "range.bin", c.off, c.n), want)
	}
}

func testZeroByte(t *testing.T, e *env) {
	e.put(t, "empty", nil, storage.Metadata{})
	if got := e.read(t, "empty"); len(got) != 0 {
		t.Fatalf("read empty object: got %d bytes", len(got))
	}
	if info := e.stat(t, "empty"); info.Size != 0 {
		t.Fatalf("stat empty object: size %d", info.Size)
	}
	keys, _ := e.listAll(t, "", "", 0)
	if len(keys) != 1 || keys[0] != "empty" {
		t.Fatalf("list = %q, want [empty]", keys)
	}
}

// sortedKeys is a key set whose byte order differs from naive path order.
var sortedKeys = []string{"a", "a b", "a+b", "a-b", "a.txt", "a/b", "a/b/c", "a/c", "a0", "b", "b/a/a", "b/z", "ba", "z"}

func (e *env) putKeys(t *testing.T, keys []string) {
	t.Helper()
	shuffled := append([]string(nil), keys...)
	rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for i, k := range shuffled {
		e.put(t, k, []byte(fmt.Sprintf("%d:%s", i, k)), storage.Metadata{})
	}
}

// localSafe drops keys a store without dir markers cannot hold: a key that
// is also the "directory" of another key ("a" beside "a/b").
func (e *env) localSafe(keys []string) []string {
	if !e.opts.NoDirMarkers && !e.opts.NoKeyDirConflicts {
		return keys
	}
	var out []string
	for _, k := range keys {
		dir := false
		for _, other := range keys {
			dir = dir || strings.HasPrefix(other, k+"/")
		}
		if !dir {
			out = append(out, k)
		}
	}
	return out
}

func testListOrder(t *testing.T, e *env) {
	want := e.localSafe(sortedKeys)
	e.putKeys(t, want)
	got, _ := e.listAll(t, "", "", 0)
	e.checkKeys(t, got, want)
}

func (e *env) checkKeys(t *testing.T, got, want []string) {
	t.Helper()
	if e.caps().UnsortedListing {
		got, want = sortedCopy(got), sortedCopy(want)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("listed keys\n got %q\nwant %q", got, want)
	}
}

func testListPagination(t *testing.T, e *env) {
	var want []string
	for i := range 23 {
		want = append(want, fmt.Sprintf("p/%03d", i))
	}
	e.putKeys(t, want)
	for _, limit := range []int{1, 5, 22, 23, 100} {
		got, _ := e.listAll(t, "", "", limit)
		e.checkKeys(t, got, want)
	}
}

func testListResume(t *testing.T, e *env) {
	var want []string
	for i := range 12 {
		want = append(want, fmt.Sprintf("r/%02d", i))
	}
	e.putKeys(t, want)
	l := e.lister(t)
	first, err := l.List(e.ctx, storage.ListOptions{Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if first.NextToken == "" {
		t.Fatalf("first page of 12 objects with limit 5 has no NextToken")
	}
	// Something else happens between the pages, as after a restart.
	e.listAll(t, "", "", 3)
	got := keysOf(first.Objects)
	rest, _ := e.resume(t, first.NextToken)
	e.checkKeys(t, append(got, rest...), want)
}

func (e *env) resume(t *testing.T, token string) (keys, prefixes []string) {
	t.Helper()
	l := e.lister(t)
	for token != "" {
		page, err := l.List(e.ctx, storage.ListOptions{Token: token, Limit: 4})
		if err != nil {
			t.Fatalf("list from token %q: %v", token, err)
		}
		keys = append(keys, keysOf(page.Objects)...)
		prefixes = append(prefixes, page.Prefixes...)
		token = page.NextToken
	}
	return keys, prefixes
}

func keysOf(objs []storage.ObjectInfo) []string {
	keys := make([]string, len(objs))
	for i, o := range objs {
		keys[i] = o.Key
	}
	return keys
}

func testListPrefix(t *testing.T, e *env) {
	e.putKeys(t, []string{"x/1", "x/2", "x/y/3", "x-4", "xz", "y/5"})
	got, _ := e.listAll(t, "x/", "", 0)
	e.checkKeys(t, got, []string{"x/1", "x/2", "x/y/3"})
	got, _ = e.listAll(t, "x/y/", "", 2)
	e.checkKeys(t, got, []string{"x/y/3"})
	got, _ = e.listAll(t, "nothing/", "", 0)
	e.checkKeys(t, got, nil)
}

func testListDelimiter(t *testing.T, e *env) {
	e.putKeys(t, []string{"d/1", "d/e/2", "d/e/f/3", "d/g/4", "d0", "h/5", "top"})
	if !e.opts.NoEmptyPrefixDelimiter {
		for _, limit := range []int{0, 1, 2} {
			keys, prefixes := e.listAll(t, "", "/", limit)
			e.checkKeys(t, keys, []string{"d0", "top"})
			e.checkKeys(t, prefixes, []string{"d/", "h/"})
		}
	}
	for _, limit := range []int{0, 1} {
		keys, prefixes := e.listAll(t, "d/", "/", limit)
		e.checkKeys(t, keys, []string{"d/1"})
		e.checkKeys(t, prefixes, []string{"d/e/", "d/g/"})
	}
}

func testDirMarker(t *testing.T, e *env) {
	if e.opts.NoDirMarkers {
		t.Skip("the store cannot hold keys ending in /")
	}
	e.put(t, "folder/", nil, storage.Metadata{})
	e.put(t, "folder/file", []byte("x"), storage.Metadata{})
	l := e.lister(t)
	page, err := l.List(e.ctx, storage.ListOptions{Prefix: "folder/"})
	if err != nil {
		t.Fatal(err)
	}
	var marker, file bool
	for _, o := range page.Objects {
		switch o.Key {
		case "folder/":
			marker = o.IsDir
		case "folder/file":
			file = !o.IsDir
		}
	}
	if !marker || !file {
		t.Fatalf("listing %+v: want folder/ with IsDir and folder/file without", page.Objects)
	}
}

func (e *env) roundTrip(t *testing.T, keys []string) {
	t.Helper()
	var usable []string
	for _, k := range keys {
		if e.opts.KeyUnsafe == "" || !containsAny(k, e.opts.KeyUnsafe) {
			usable = append(usable, k)
		}
	}
	for i, k := range usable {
		e.put(t, k, []byte(k), storage.Metadata{})
		if got := e.read(t, k); string(got) != k {
			t.Fatalf("key %d %q: read back %q", i, k, got)
		}
		if info := e.stat(t, k); info.Key != k || info.Size != int64(len(k)) {
			t.Fatalf("key %q: stat key=%q size=%d", k, info.Key, info.Size)
		}
	}
	got, _ := e.listAll(t, "", "", 0)
	e.checkKeys(t, got, sortedCopy(usable))
}

func testSpecialKeys(t *testing.T, e *env) {
	e.roundTrip(t, []string{
		"with space", "plus+sign", "per%cent", "per%20cent", "question?mark", "hash#tag", "amp&ersand",
		"equals=sign", "semi;colon", "comma,sep", "quote'single", "paren(s)", "bracket[s]", "tilde~", "dollar$",
		"at@sign", "star*", "x/ leading space", "trailing space ", "dir with space/file name",
	})
}

func testUnicodeKeys(t *testing.T, e *env) {
	e.roundTrip(t, []string{"中文/文件.txt", "日本語ファイル", "émoji-😀.png", "Ελληνικά", "مرحبا", "combining-é"})
}

func testLongKey(t *testing.T, e *env) {
	limit := e.opts.MaxKeyLength
	if limit == 0 {
		limit = storage.MaxKeyLength
	}
	// Path elements of 200 bytes keep local file systems (255-byte names)
	// happy while the whole key reaches the limit.
	var key []byte
	for len(key) < limit {
		if len(key) > 0 {
			key = append(key, '/')
		}
		n := min(200, limit-len(key))
		key = append(key, bytes.Repeat([]byte{'k'}, n)...)
	}
	if key[len(key)-1] == '/' {
		key[len(key)-1] = 'k'
	}
	e.roundTrip(t, []string{string(key)})
}

func testMetadata(t *testing.T, e *env) {
	if e.opts.NoMetadata {
		t.Skip("the store keeps no metadata")
	}
	meta := storage.Metadata{
		ContentType:        "image/png",
		CacheControl:       "max-age=3600",
		ContentDisposition: `attachment; filename="x.png"`,
		ContentEncoding:    "identity",
		ContentLanguage:    "en",
		User:               map[string]string{"owner": "ops", "src-mtime": "1700000000"},
	}
	e.put(t, "meta.png", []byte("png"), meta)
	got := e.stat(t, "meta.png").Meta
	checks := []struct{ name, got, want string }{
		{"ContentType", got.ContentType, meta.ContentType},
		{"CacheControl", got.CacheControl, meta.CacheControl},
		{"ContentDisposition", got.ContentDisposition, meta.ContentDisposition},
		{"ContentEncoding", got.ContentEncoding, meta.ContentEncoding},
		{"ContentLanguage", got.ContentLanguage, meta.ContentLanguage},
		{"User[owner]", got.User["owner"], "ops"},
		{"User[src-mtime]", got.User["src-mtime"], "1700000000"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
}

func testNotFound(t *testing.T, e *env) {
	r := e.reader(t)
	_, err := r.Stat(e.ctx, "missing/object")
	mustBeNotExist(t, "stat missing object", err)
	rc, err := r.Open(e.ctx, "missing/object", 0, -1)
	if err == nil {
		_, err = io.ReadAll(rc)
		_ = rc.Close()
	}
	mustBeNotExist(t, "open missing object", err)
}

func testOverwrite(t *testing.T, e *env) {
	e.put(t, "ow", []byte("first version, longer"), storage.Metadata{})
	e.put(t, "ow", []byte("second"), storage.Metadata{})
	if got := e.read(t, "ow"); string(got) != "second" {
		t.Fatalf("after overwrite read %q", got)
	}
	keys, _ := e.listAll(t, "", "", 0)
	e.checkKeys(t, keys, []string{"ow"})
}

func testDelete(t *testing.T, e *env) {
	w := e.writer(t)
	e.put(t, "del/me", []byte("x"), storage.Metadata{})
	if err := w.Delete(e.ctx, "del/me"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err := e.reader(t).Stat(e.ctx, "del/me")
	mustBeNotExist(t, "stat after delete", err)
	if err := w.Delete(e.ctx, "del/me"); err != nil {
		t.Fatalf("deleting a missing key: %v, want nil", err)
	}
}

func testChecksums(t *testing.T, e *env) {
	w := e.writer(t)
	data := payload(123_457, 3)
	res, err := w.Put(e.ctx, "sum.bin", bytes.NewReader(data), int64(len(data)), storage.Metadata{})
	if err != nil {
		t.Fatal(err)
	}
	c := e.caps()
	if c.CRC64 {
		if !res.Checksums.HasCRC64 || res.Checksums.CRC64 != crc(data) {
			t.Errorf("put CRC64 = %x (known %v), want %x", res.Checksums.CRC64, res.Checksums.HasCRC64, crc(data))
		}
	}
	sum := md5.Sum(data)
	if c.MD5 && !bytes.Equal(res.Checksums.MD5, sum[:]) {
		t.Errorf("put MD5 = %x, want %x", res.Checksums.MD5, sum)
	}
	if c.ETagIsMD5 && !equalFoldHex(res.ETag, sum[:]) {
		t.Errorf("put ETag = %q, want MD5 %x", res.ETag, sum)
	}
	// A reader that delivers fewer bytes than announced must not create a
	// short object that looks complete.
	_, err = w.Put(e.ctx, "short.bin", bytes.NewReader(data[:1000]), int64(len(data)), storage.Metadata{})
	if err == nil {
		info, statErr := e.reader(t).Stat(e.ctx, "short.bin")
		if statErr == nil && info.Size != int64(len(data)) {
			t.Fatalf("put with a short reader succeeded and stored %d of %d bytes", info.Size, len(data))
		}
		t.Errorf("put of %d bytes from a reader of 1000 succeeded", len(data))
	}
}

// checkedBody is a streamed body whose writer checks it, like the
// copier's (storage.CheckedBody): it cannot be rewound.
type checkedBody struct{ r io.Reader }

func (b checkedBody) Read(p []byte) (int, error) { return b.r.Read(p) }

// CheckedByCaller marks the body.
func (checkedBody) CheckedByCaller() {}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// mustHaveCRC32C fails unless sums carries data's CRC-32C.
func mustHaveCRC32C(t *testing.T, what string, sums storage.Checksums, data []byte) {
	t.Helper()
	if want := crc32.Checksum(data, castagnoli); !sums.HasCRC32C || sums.CRC32C != want {
		t.Errorf("%s: CRC-32C %08x (known %v), want %08x", what, sums.CRC32C, sums.HasCRC32C, want)
	}
}

// testCRC32C: a store claiming Capabilities.CRC32C returns the CRC-32C
// of every checked body it writes, with Put and with UploadPart.
func testCRC32C(t *testing.T, e *env) {
	if !e.caps().CRC32C {
		t.Skipf("%s sends no CRC-32C", e.st)
	}
	w := e.writer(t)
	for i, size := range []int{1, 70_000, 3_000_000} {
		data := payload(size, uint64(10+i))
		key := fmt.Sprintf("crc32c/%d", size)
		res, err := w.Put(e.ctx, key, checkedBody{bytes.NewReader(data)}, int64(size), storage.Metadata{})
		if err != nil {
			t.Fatalf("put %d bytes: %v", size, err)
		}
		mustHaveCRC32C(t, fmt.Sprintf("put %d bytes", size), res.Checksums, data)
		mustEqualBytes(t, key, e.read(t, key), data)
	}
	if !e.caps().Multipart {
		return
	}
	m := e.multipart(t)
	data := payload(int(e.partSize())+4321, 20)
	chunks := e.parts(data)
	id, err := m.CreateMultipart(e.ctx, "crc32c/mp", storage.Metadata{})
	if err != nil {
		t.Fatal(err)
	}
	var parts []storage.Part
	for i, c := range chunks {
		p, err := m.UploadPart(e.ctx, "crc32c/mp", id, i+1, checkedBody{bytes.NewReader(c)}, int64(len(c)))
		if err != nil {
			t.Fatalf("upload part %d: %v", i+1, err)
		}
		mustHaveCRC32C(t, fmt.Sprintf("part %d", i+1), p.Checksums, c)
		parts = append(parts, p)
	}
	if _, err := m.CompleteMultipart(e.ctx, "crc32c/mp", id, parts); err != nil {
		t.Fatalf("complete: %v", err)
	}
	mustEqualBytes(t, "crc32c/mp", e.read(t, "crc32c/mp"), data)
}
