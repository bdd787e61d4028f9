package youpai

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/youpai/youpaitest"
)

// listAll lists every page, failing on an entry returned twice; each
// page after the first is asked of the store next returns (nil: st).
func listAll(t *testing.T, st *Store, opts storage.ListOptions, next func() *Store) (keys, prefixes []string) {
	t.Helper()
	seen := map[string]bool{}
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatalf("listing %q never ends", opts.Prefix)
		}
		page, err := st.List(t.Context(), opts)
		if err != nil {
			t.Fatalf("list %+v: %v", opts, err)
		}
		if opts.Limit > 0 && len(page.Objects)+len(page.Prefixes) > opts.Limit {
			t.Fatalf("page of %d entries, limit %d", len(page.Objects)+len(page.Prefixes), opts.Limit)
		}
		for _, o := range page.Objects {
			if seen[o.Key] {
				t.Fatalf("%q listed twice", o.Key)
			}
			seen[o.Key] = true
			keys = append(keys, o.Key)
		}
		for _, p := range page.Prefixes {
			if seen[p] {
				t.Fatalf("prefix %q listed twice", p)
			}
			seen[p] = true
			prefixes = append(prefixes, p)
		}
		if page.NextToken == "" {
			return keys, prefixes
		}
		opts.Token = page.NextToken
		if next != nil {
			st = next()
		}
	}
}

func sameSet(t *testing.T, what string, got, want []string) {
	t.Helper()
	got, want = slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Fatalf("%s:\n got %q\nwant %q", what, got, want)
	}
}

// putTree uploads a tree of nested folders with files, plus empty folders,
// and returns the file keys.
func putTree(t *testing.T, srv *youpaitest.Server) []string {
	t.Helper()
	var keys []string
	for i := range 12 {
		dir := fmt.Sprintf("f%02d/", i)
		if i%3 == 0 {
			dir += fmt.Sprintf("sub%d/deeper/", i)
		}
		for j := range i % 5 { // some folders hold no file
			keys = append(keys, fmt.Sprintf("%sfile-%d.txt", dir, j))
		}
		if i%5 == 0 {
			srv.Mkdir(t, testBucket, dir)
		}
	}
	keys = append(keys, "top-1", "top-2", "f03/sub3/side.bin")
	srv.Mkdir(t, testBucket, "empty/nested/")
	for _, k := range keys {
		srv.Put(t, testBucket, k, []byte("data of "+k), nil)
	}
	return keys
}

func TestListManyFoldersSmallPages(t *testing.T) {
	srv, _ := newServer(t)
	want := putTree(t, srv)
	st := openStore(t, srv, testBucket)
	st.pageSize = 2 // X-List-Limit: 2, so every folder takes several requests
	for _, limit := range []int{1, 3, 7, 1000} {
		srv.ResetCounts()
		got, _ := listAll(t, st, storage.ListOptions{Limit: limit}, nil)
		sameSet(t, fmt.Sprintf("limit %d", limit), got, want)
		if n := srv.Count(youpaitest.KindList); n < 20 {
			t.Errorf("limit %d: %d list requests, want many pages", limit, n)
		}
	}
	got, _ := listAll(t, st, storage.ListOptions{Prefix: "f0", Limit: 2}, nil)
	sameSet(t, "prefix f0", got, filter(want, "f0"))
	got, _ = listAll(t, st, storage.ListOptions{Prefix: "f03/sub3/", Limit: 2}, nil)
	sameSet(t, "prefix f03/sub3/", got, filter(want, "f03/sub3/"))
	got, _ = listAll(t, st, storage.ListOptions{Prefix: "missing/dir/"}, nil)
	sameSet(t, "missing prefix", got, nil)
}

func filter(keys []string, prefix string) []string {
	var out []string
	for _, k := range keys {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	return out
}

func TestListDelimiterFolders(t *testing.T) {
	srv, _ := newServer(t)
	putTree(t, srv)
	st := openStore(t, srv, testBucket)
	st.pageSize = 3
	keys, prefixes := listAll(t, st, storage.ListOptions{Delimiter: "/", Limit: 2}, nil)
	sameSet(t, "root files", keys, []string{"top-1", "top-2"})
	var want []string
	for i := range 12 {
		want = append(want, fmt.Sprintf("f%02d/", i))
	}
	sameSet(t, "root folders", prefixes, append(want, "empty/"))
	keys, prefixes = listAll(t, st, storage.ListOptions{Prefix: "f03/", Delimiter: "/"}, nil)
	sameSet(t, "f03 files", keys, nil)
	sameSet(t, "f03 folders", prefixes, []string{"f03/sub3/"})
	if _, err := st.List(t.Context(), storage.ListOptions{Delimiter: "|"}); !errors.Is(err, storage.ErrNotSupported) {
		t.Fatalf("delimiter |: %v, want ErrNotSupported", err)
	}
}

func TestListResumeWithNewStore(t *testing.T) {
	srv, _ := newServer(t)
	want := putTree(t, srv)
	// Every page is asked of a new Store, as after a restart; the first
	// store's page size must carry over through the token.
	first := openStore(t, srv, testBucket)
	first.pageSize = 2
	got, _ := listAll(t, first, storage.ListOptions{Limit: 3}, func() *Store {
		return openStore(t, srv, testBucket)
	})
	sameSet(t, "resumed listing", got, want)
}

func TestListIterRefusedFallsBack(t *testing.T) {
	srv, _ := newServer(t)
	var want []string
	for i := range 25 {
		want = append(want, fmt.Sprintf("big/%02d", i))
	}
	for i := range 9 {
		want = append(want, fmt.Sprintf("big/inner/%d", i))
	}
	for _, k := range want {
		srv.Put(t, testBucket, k, []byte(k), nil)
	}
	st := openStore(t, srv, testBucket)
	st.pageSize = 4
	for _, limit := range []int{1, 5, 11} {
		// Every cursor goes stale between two pages, so each page starts
		// with the fallback at every level of the walk.
		got, _ := listAll(t, st, storage.ListOptions{Limit: limit}, func() *Store {
			srv.ExpireIters()
			return openStore(t, srv, testBucket)
		})
		sameSet(t, fmt.Sprintf("limit %d", limit), got, want)
	}
	if srv.Count("iter-refused") == 0 {
		t.Fatal("the server never refused a cursor: the fallback was not tested")
	}
}

func TestListIterRefusedAfterChange(t *testing.T) {
	srv, _ := newServer(t)
	var want []string
	for i := range 20 {
		want = append(want, fmt.Sprintf("d/%02d", i))
	}
	for _, k := range want {
		srv.Put(t, testBucket, k, []byte(k), nil)
	}
	st := openStore(t, srv, testBucket)
	st.pageSize = 4
	page, err := st.List(t.Context(), storage.ListOptions{Limit: 10})
	if err != nil || page.NextToken == "" {
		t.Fatalf("first page: %v, token %q", err, page.NextToken)
	}
	// The directory changes and the cursor goes stale: the listing starts
	// the directory again, so keys may repeat but none may be missing.
	srv.Delete(t, testBucket, page.Objects[0].Key)
	srv.Put(t, testBucket, "d/new", []byte("new"), nil)
	srv.ExpireIters()
	got := keysOf(page.Objects)
	rest, _ := listAll(t, openStore(t, srv, testBucket), storage.ListOptions{Limit: 10, Token: page.NextToken}, nil)
	got = append(got, rest...)
	if srv.Count("iter-refused") == 0 {
		t.Fatal("the server never refused a cursor")
	}
	for _, k := range append(want[1:], "d/new") {
		if !slices.Contains(got, k) {
			t.Errorf("%q missing after the fallback", k)
		}
	}
}

func keysOf(objs []storage.ObjectInfo) []string {
	var keys []string
	for _, o := range objs {
		keys = append(keys, o.Key)
	}
	return keys
}

func TestListManyEmptyFolders(t *testing.T) {
	srv, _ := newServer(t)
	for i := range maxListRequests + 20 {
		srv.Mkdir(t, testBucket, fmt.Sprintf("e%03d/", i))
	}
	srv.Put(t, testBucket, "zz/last", []byte("x"), nil)
	st := openStore(t, srv, testBucket)
	st.pageSize = 500
	page, err := st.List(t.Context(), storage.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if page.NextToken == "" {
		t.Fatalf("one call walked %d folders; want it to stop after %d requests", maxListRequests+21, maxListRequests)
	}
	got, _ := listAll(t, st, storage.ListOptions{}, nil)
	sameSet(t, "listing", got, []string{"zz/last"})
}

func TestListBadToken(t *testing.T) {
	srv, _ := newServer(t)
	srv.Put(t, testBucket, "a/b", []byte("x"), nil)
	st := openStore(t, srv, testBucket)
	st.pageSize = 1
	page, err := st.List(t.Context(), storage.ListOptions{Limit: 1, Prefix: "a"})
	if err != nil {
		t.Fatal(err)
	}
	for _, opts := range []storage.ListOptions{
		{Token: "not base64 !"},
		{Token: "e30"}, // {}
		{Token: page.NextToken, Prefix: "b"},
		{Token: page.NextToken, Prefix: "a", Delimiter: "/"},
	} {
		if page.NextToken == "" && opts.Token == "" {
			continue
		}
		if _, err := st.List(t.Context(), opts); err == nil || !strings.Contains(err.Error(), "bad token") {
			t.Errorf("list %+v: %v, want a bad token error", opts, err)
		}
	}
}

func TestParseListing(t *testing.T) {
	pg, ok, err := parseListing([]byte("foo.jpg\tN\t4237\t1415096225\nbar\tF\t0\t1415096260\n"), "abc")
	if err != nil || !ok || pg.next != "abc" || len(pg.entries) != 2 ||
		pg.entries[0] != (entry{"foo.jpg", false, 4237, 1415096225}) || !pg.entries[1].dir {
		t.Fatalf("text listing: %+v %v %v", pg, ok, err)
	}
	pg, ok, err = parseListing([]byte(`{"files":[{"name":"a","type":"image/png","length":"12","last_modified":1415096225},`+
		`{"name":"d","type":"folder","length":0,"last_modified":"7"}],"iter":"`+endIter+`"}`), "")
	if err != nil || !ok || pg.next != endIter || len(pg.entries) != 2 ||
		pg.entries[0] != (entry{"a", false, 12, 1415096225}) || pg.entries[1] != (entry{"d", true, 0, 7}) {
		t.Fatalf("JSON listing: %+v %v %v", pg, ok, err)
	}
	if _, ok, err := parseListing([]byte(`{"some":"json file"}`), ""); ok || err != nil {
		t.Fatalf("a JSON file read as a listing: %v %v", ok, err)
	}
}
