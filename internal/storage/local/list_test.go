package local

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
)

// newStore opens a store on root.
func newStore(t testing.TB, root string, opts Options) *Store {
	t.Helper()
	st, err := New(root, opts)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// makeFiles creates each key under root with the key as content.
func makeFiles(t testing.TB, root string, keys ...string) {
	t.Helper()
	for _, k := range keys {
		p := filepath.Join(root, filepath.FromSlash(k))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(k), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// listing is what listPages collected.
type listing struct {
	keys, prefixes []string
	objects        []storage.ObjectInfo
	pages          int
}

// listPages lists every page. With fresh set, each page is listed by a new
// Store, as a restarted process would.
func listPages(t testing.TB, st *Store, opts storage.ListOptions, fresh bool) listing {
	t.Helper()
	var l listing
	for {
		cur := st
		if fresh {
			cur = newStore(t, st.root, st.opts)
		}
		page, err := cur.List(t.Context(), opts)
		if err != nil {
			t.Fatalf("list %+v: %v", opts, err)
		}
		l.pages++
		if opts.Limit > 0 && len(page.Objects)+len(page.Prefixes) > opts.Limit {
			t.Fatalf("page of %d entries, limit %d", len(page.Objects)+len(page.Prefixes), opts.Limit)
		}
		for _, o := range page.Objects {
			l.keys = append(l.keys, o.Key)
		}
		l.objects = append(l.objects, page.Objects...)
		l.prefixes = append(l.prefixes, page.Prefixes...)
		if page.NextToken == "" {
			return l
		}
		opts.Token = page.NextToken
	}
}

func equalStrings(t testing.TB, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s:\n got %q\nwant %q", what, got, want)
	}
}

// orderKeys have a byte order that differs from naive path order.
var orderKeys = []string{
	"a-b", "a/b", "a.txt", "a/c/d", "a b", "a+b", "a0", "a/c-d", "a/c.d/e", "a/c0",
	"sp ace/f ile", "Z", "z", "é/x", "中/文", "中文", "e\u0301", "~", "0", ".hidden",
}

func TestListOrder(t *testing.T) {
	root := t.TempDir()
	makeFiles(t, root, orderKeys...)
	want := slices.Clone(orderKeys)
	slices.Sort(want)
	st := newStore(t, root, Options{})
	for _, limit := range []int{0, 1, 2, 3, 7, len(want) - 1, len(want)} {
		for _, fresh := range []bool{false, true} {
			t.Run(fmt.Sprintf("limit=%d/fresh=%v", limit, fresh), func(t *testing.T) {
				l := listPages(t, st, storage.ListOptions{Limit: limit}, fresh)
				equalStrings(t, "keys", l.keys, want)
				if limit > 0 && l.pages != (len(want)+limit-1)/limit {
					t.Errorf("%d pages for %d keys with limit %d", l.pages, len(want), limit)
				}
			})
		}
	}
}

func TestListPrefix(t *testing.T) {
	root := t.TempDir()
	makeFiles(t, root, orderKeys...)
	st := newStore(t, root, Options{})
	cases := []struct {
		prefix string
		want   []string
	}{
		{"a", []string{"a b", "a+b", "a-b", "a.txt", "a/b", "a/c-d", "a/c.d/e", "a/c/d", "a/c0", "a0"}},
		{"a/", []string{"a/b", "a/c-d", "a/c.d/e", "a/c/d", "a/c0"}},
		{"a/c", []string{"a/c-d", "a/c.d/e", "a/c/d", "a/c0"}},
		{"a/c/", []string{"a/c/d"}},
		{"a/b/", nil},
		{"中", []string{"中/文", "中文"}},
		{"sp ace/", []string{"sp ace/f ile"}},
		{"a.txt/", nil},
		{"missing/", nil},
		{"missing/deeper/x", nil},
	}
	for _, c := range cases {
		for _, limit := range []int{0, 1, 3} {
			l := listPages(t, st, storage.ListOptions{Prefix: c.prefix, Limit: limit}, limit == 3)
			equalStrings(t, fmt.Sprintf("prefix %q limit %d", c.prefix, limit), l.keys, c.want)
		}
	}
	for _, bad := range []string{"../", "a/../", "/abs/", "a//", "./x"} {
		_, err := st.List(t.Context(), storage.ListOptions{Prefix: bad})
		if !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("prefix %q: err %v, want ErrInvalidKey", bad, err)
		}
	}
}

func TestListDelimiter(t *testing.T) {
	root := t.TempDir()
	makeFiles(t, root, "d/1", "d/e/2", "d-x", "d.y", "deep/a/b/c/f", "top", "hidden/.ossimport-tmp-1/f")
	for _, dir := range []string{"empty", "nested-empty/a/b", "d/empty", "only-tmp"} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	makeFiles(t, root, "only-tmp/.ossimport-tmp-abc")
	st := newStore(t, root, Options{})
	cases := []struct {
		prefix         string
		keys, prefixes []string
	}{
		{"", []string{"d-x", "d.y", "top"}, []string{"d/", "deep/"}},
		{"d", []string{"d-x", "d.y"}, []string{"d/", "deep/"}},
		{"d/", []string{"d/1"}, []string{"d/e/"}},
		{"deep/a/", nil, []string{"deep/a/b/"}},
		{"empty/", nil, nil},
	}
	for _, c := range cases {
		for _, limit := range []int{0, 1, 2} {
			for _, fresh := range []bool{false, true} {
				l := listPages(t, st, storage.ListOptions{Prefix: c.prefix, Delimiter: "/", Limit: limit}, fresh)
				what := fmt.Sprintf("prefix %q limit %d fresh %v", c.prefix, limit, fresh)
				equalStrings(t, what+" keys", l.keys, c.keys)
				equalStrings(t, what+" prefixes", l.prefixes, c.prefixes)
			}
		}
	}
	// Flat: empty directories produce nothing; a directory holding only a
	// temporary file is empty, but a directory called .ossimport-tmp-* is
	// a temporary name too.
	l := listPages(t, st, storage.ListOptions{}, false)
	equalStrings(t, "flat keys", l.keys, []string{"d-x", "d.y", "d/1", "d/e/2", "deep/a/b/c/f", "top"})
	if _, err := st.List(t.Context(), storage.ListOptions{Delimiter: "|"}); !errors.Is(err, storage.ErrNotSupported) {
		t.Errorf("delimiter |: err %v, want ErrNotSupported", err)
	}
}

func TestListResumeTokens(t *testing.T) {
	root := t.TempDir()
	makeFiles(t, root, "a/1", "a/2", "a/b/3", "a-4", "b/5", "c")
	st := newStore(t, root, Options{})
	cases := []struct {
		token, delim string
		want         []string
	}{
		{"a/1", "", []string{"a/2", "a/b/3", "b/5", "c"}},
		{"a/0-deleted", "", []string{"a/1", "a/2", "a/b/3", "b/5", "c"}},
		{"a/b/", "", []string{"a/b/3", "b/5", "c"}}, // a prefix token in a flat listing
		{"a/b/3", "", []string{"b/5", "c"}},
		{"a-", "", []string{"a-4", "a/1", "a/2", "a/b/3", "b/5", "c"}},
		{"a-4", "", []string{"a/1", "a/2", "a/b/3", "b/5", "c"}},
		{"zzz", "", nil},
		{"a-4", "/", []string{"a/", "b/", "c"}},
		{"a/", "/", []string{"b/", "c"}},
		{"a/zzz", "/", []string{"b/", "c"}},
	}
	for _, c := range cases {
		page, err := newStore(t, root, Options{}).List(t.Context(), storage.ListOptions{Token: c.token, Delimiter: c.delim})
		if err != nil {
			t.Fatal(err)
		}
		got := slices.Concat(page.Prefixes, keysOf(page.Objects))
		slices.Sort(got)
		equalStrings(t, fmt.Sprintf("after %q delimiter %q", c.token, c.delim), got, c.want)
	}
	// A token from a cached walk and the same token in a new store agree
	// even when the tree changes between pages.
	first, err := st.List(t.Context(), storage.ListOptions{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(root, "a", "b", "3")); err != nil {
		t.Fatal(err)
	}
	cached := listPages(t, st, storage.ListOptions{Token: first.NextToken, Limit: 2}, false)
	fresh := listPages(t, st, storage.ListOptions{Token: first.NextToken, Limit: 2}, true)
	equalStrings(t, "cached walk", cached.keys, []string{"a/2", "b/5", "c"})
	equalStrings(t, "fresh walk", fresh.keys, []string{"a/2", "b/5", "c"})
}

func keysOf(objs []storage.ObjectInfo) []string {
	keys := make([]string, len(objs))
	for i, o := range objs {
		keys[i] = o.Key
	}
	return keys
}

func TestListHidesInternalFiles(t *testing.T) {
	root := t.TempDir()
	st := newStore(t, root, Options{})
	makeFiles(t, root, "f", "sub/.ossimport-multipart/kept", ".ossimport-tmp-root", "sub/.ossimport-tmp-x")
	id, err := st.CreateMultipart(t.Context(), "big", storage.Metadata{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.UploadPart(t.Context(), "big", id, 1, bytesReader("part"), 4); err != nil {
		t.Fatal(err)
	}
	l := listPages(t, st, storage.ListOptions{}, false)
	equalStrings(t, "keys", l.keys, []string{"f", "sub/.ossimport-multipart/kept"})
	l = listPages(t, st, storage.ListOptions{Delimiter: "/"}, false)
	equalStrings(t, "prefixes", l.prefixes, []string{"sub/"})
}

func TestListMissingRoot(t *testing.T) {
	dir := t.TempDir()
	makeFiles(t, dir, "file")
	for _, root := range []string{filepath.Join(dir, "missing"), filepath.Join(dir, "file")} {
		_, err := newStore(t, root, Options{}).List(t.Context(), storage.ListOptions{})
		if !errors.Is(err, storage.ErrBucketNotExist) {
			t.Errorf("root %s: err %v, want ErrBucketNotExist", root, err)
		}
	}
}

func TestListNonUTF8Name(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs a file system that takes any bytes in names")
	}
	root := t.TempDir()
	bad := "latin1-caf\xe9.txt"
	makeFiles(t, root, bad, "ok")
	st := newStore(t, root, Options{})
	l := listPages(t, st, storage.ListOptions{}, false)
	equalStrings(t, "keys", l.keys, []string{bad, "ok"})
	if storage.CheckOSSKey(l.keys[0]) == nil {
		t.Error("CheckOSSKey accepts the non-UTF-8 key")
	}
	if got := readAll(t, st, bad); got != bad {
		t.Errorf("read %q, want %q", got, bad)
	}
}

func TestListAccessDenied(t *testing.T) {
	if os.Geteuid() == 0 || runtime.GOOS == "windows" {
		t.Skip("permissions do not apply to root")
	}
	root := t.TempDir()
	makeFiles(t, root, "a/locked/f", "b")
	locked := filepath.Join(root, "a", "locked")
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(locked, 0o755) })
	_, err := newStore(t, root, Options{}).List(t.Context(), storage.ListOptions{})
	if !errors.Is(err, storage.ErrAccessDenied) {
		t.Fatalf("err %v, want ErrAccessDenied", err)
	}
}

// fastTempDir returns a new directory on tmpfs (/dev/shm) when there is
// one, else in the test's temporary directory: creating 100,000 files on
// a slow disk takes minutes, on tmpfs a second.
func fastTempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("/dev/shm", "ossimport-local-test-")
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// makeTree creates dirs*dirs directories of files empty files each: keys
// dNN/sNN/fNNNN.
func makeTree(t testing.TB, root string, dirs, files int) int {
	t.Helper()
	for i := range dirs {
		for j := range dirs {
			dir := filepath.Join(root, fmt.Sprintf("d%02d", i), fmt.Sprintf("s%02d", j))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for k := range files {
				f, err := os.Create(filepath.Join(dir, fmt.Sprintf("f%04d", k)))
				if err != nil {
					t.Fatal(err)
				}
				f.Close()
			}
		}
	}
	return dirs * dirs * files
}

func TestListLargeTree(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 100,000 files")
	}
	root := fastTempDir(t)
	n := makeTree(t, root, 10, 1000)
	st := newStore(t, root, Options{})
	for _, fresh := range []bool{false, true} {
		count, last := 0, ""
		opts := storage.ListOptions{Limit: 1000}
		for {
			cur := st
			if fresh {
				cur = newStore(t, root, Options{})
			}
			page, err := cur.List(t.Context(), opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range page.Objects {
				if o.Key <= last {
					t.Fatalf("%q listed after %q", o.Key, last)
				}
				last = o.Key
				count++
			}
			if page.NextToken == "" {
				break
			}
			opts.Token = page.NextToken
		}
		if count != n {
			t.Fatalf("fresh=%v: listed %d files, want %d", fresh, count, n)
		}
	}
}

// BenchmarkListLargeTree lists 100,000 files page by page and reports the
// largest live heap seen between pages, which stays near the size of one
// directory's names rather than the whole tree's.
func BenchmarkListLargeTree(b *testing.B) {
	root := fastTempDir(b)
	n := makeTree(b, root, 10, 1000)
	st := newStore(b, root, Options{})
	var peak uint64
	var ms runtime.MemStats
	for b.Loop() {
		runtime.GC()
		runtime.ReadMemStats(&ms)
		base := ms.HeapAlloc
		opts, count := storage.ListOptions{Limit: 1000}, 0
		for {
			page, err := st.List(b.Context(), opts)
			if err != nil {
				b.Fatal(err)
			}
			count += len(page.Objects)
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc-min(base, ms.HeapAlloc))
			if page.NextToken == "" {
				break
			}
			opts.Token = page.NextToken
		}
		if count != n {
			b.Fatalf("listed %d, want %d", count, n)
		}
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}
