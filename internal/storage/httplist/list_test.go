package httplist

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
)

func TestParseLine(t *testing.T) {
	def := columns{prefix: 0, path: 1}
	cases := []struct {
		name    string
		cols    columns
		text    string
		want    entry // zero when skipped or bad
		skip    bool
		problem string // a fragment of the problem
	}{
		{name: "prefix ends dir", cols: def, text: "http://127.0.0.1/aa/   bb.jpg",
			want: entry{prefix: "http://127.0.0.1/aa/", rawPath: "bb.jpg", key: "bb.jpg"}},
		{name: "path has dirs", cols: def, text: "http://127.0.0.1/\taa/bb.jpg",
			want: entry{prefix: "http://127.0.0.1/", rawPath: "aa/bb.jpg", key: "aa/bb.jpg"}},
		{name: "custom columns", cols: columns{prefix: 0, path: 3}, text: "http://127.0.0.1/aa/   bb/cc dd/ee  ff.jpg",
			want: entry{prefix: "http://127.0.0.1/aa/", rawPath: "ff.jpg", key: "ff.jpg"}},
		{name: "prefix after path", cols: columns{prefix: 2, path: 0}, text: "x/y.png 123 https://cdn.example.com/",
			want: entry{prefix: "https://cdn.example.com/", rawPath: "x/y.png", key: "x/y.png"}},
		{name: "extra columns ignored", cols: def, text: "http://h/ a.jpg 2024-01-01 12345",
			want: entry{prefix: "http://h/", rawPath: "a.jpg", key: "a.jpg"}},
		{name: "decoded key", cols: def, text: "http://h/ dir%20one/a%20b%2Bc%25d%E4%B8%AD.jpg",
			want: entry{prefix: "http://h/", rawPath: "dir%20one/a%20b%2Bc%25d%E4%B8%AD.jpg", key: "dir one/a b+c%d中.jpg"}},
		{name: "plus stays plus", cols: def, text: "http://h/ a+b.jpg",
			want: entry{prefix: "http://h/", rawPath: "a+b.jpg", key: "a+b.jpg"}},
		{name: "raw unicode", cols: def, text: "HTTPS://h/ 中文.jpg",
			want: entry{prefix: "HTTPS://h/", rawPath: "中文.jpg", key: "中文.jpg"}},
		{name: "leading blanks", cols: def, text: "  \thttp://h/ a",
			want: entry{prefix: "http://h/", rawPath: "a", key: "a"}},
		{name: "no-break space is not a separator", cols: def, text: "http://h/ a\u00a0b",
			want: entry{prefix: "http://h/", rawPath: "a\u00a0b", key: "a\u00a0b"}},
		{name: "blank", cols: def, text: "", skip: true},
		{name: "spaces only", cols: def, text: " \t ", skip: true},
		{name: "comment", cols: def, text: "# http://h/ a.jpg", skip: true},
		{name: "indented comment", cols: def, text: "   #note", skip: true},
		{name: "CRLF", cols: def, text: "http://h/ a.jpg\r", problem: "dos2unix"},
		{name: "CR inside", cols: def, text: "http://h/ a.jpg\rhttp://h/ b.jpg", problem: "carriage return"},
		{name: "CRLF blank", cols: def, text: "\r", problem: "dos2unix"},
		{name: "one column", cols: def, text: "http://h/a.jpg", problem: "has 1 column(s) but needs 2"},
		{name: "short for custom", cols: columns{prefix: 0, path: 3}, text: "http://h/ a b", problem: "needs 4"},
		{name: "not a URL", cols: def, text: "a.jpg http://h/", problem: "not an http:// or https:// URL prefix"},
		{name: "bad escape", cols: def, text: "http://h/ 100%.jpg", problem: "%25"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, skip, problem := c.cols.parse(c.text)
			if skip != c.skip {
				t.Fatalf("skip = %v, want %v", skip, c.skip)
			}
			if c.problem != "" {
				if !strings.Contains(problem, c.problem) {
					t.Fatalf("problem = %q, want it to contain %q", problem, c.problem)
				}
				return
			}
			if problem != "" {
				t.Fatalf("unexpected problem %q", problem)
			}
			if e != c.want {
				t.Fatalf("entry = %+v, want %+v", e, c.want)
			}
		})
	}
}

// writeList writes a list file and opens a store on it.
func writeList(t *testing.T, text string, spec storage.Spec) *Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "http.list")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	spec.HTTPListFile = path
	st, err := New(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestListRejectsBadLinesWithTheirNumbers(t *testing.T) {
	text := "# comment\nhttp://h/ ok.jpg\r\n\nhttp://h/ ok2.jpg\nhttp://h/short.jpg\nhttp://h/ fine.jpg\n"
	st := writeList(t, text, storage.Spec{})
	_, err := st.List(t.Context(), storage.ListOptions{})
	if !errors.Is(err, ErrListFormat) {
		t.Fatalf("err = %v, want ErrListFormat", err)
	}
	msg := err.Error()
	for _, want := range []string{
		st.list.path + ":2: ", "dos2unix",
		st.list.path + ":5: ", "add the missing column",
		"2 bad line(s) of 6",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not contain %q", msg, want)
		}
	}
	for _, unwanted := range []string{":1:", ":3:", ":4:", ":6:"} {
		if strings.Contains(msg, st.list.path+unwanted) {
			t.Errorf("error %q names good line %s", msg, unwanted)
		}
	}
}

func TestListReportsAtMost20BadLines(t *testing.T) {
	var b strings.Builder
	for i := range 30 {
		fmt.Fprintf(&b, "http://h/ f%d.jpg\r\n", i)
	}
	st := writeList(t, b.String(), storage.Spec{})
	_, err := st.List(t.Context(), storage.ListOptions{})
	if !errors.Is(err, ErrListFormat) {
		t.Fatalf("err = %v, want ErrListFormat", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, st.list.path+":20: ") || strings.Contains(msg, st.list.path+":21: ") {
		t.Errorf("error should name lines 1-20 only: %s", msg)
	}
	if !strings.Contains(msg, "and 10 more") {
		t.Errorf("error should count the other 10 lines: %s", msg)
	}
}

func TestListFixedFileIsReread(t *testing.T) {
	st := writeList(t, "http://h/ a.jpg\r\n", storage.Spec{})
	if _, err := st.List(t.Context(), storage.ListOptions{}); !errors.Is(err, ErrListFormat) {
		t.Fatalf("err = %v, want ErrListFormat", err)
	}
	if err := os.WriteFile(st.list.path, []byte("http://h/ a.jpg\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	page, err := st.List(t.Context(), storage.ListOptions{})
	if err != nil || len(page.Objects) != 1 {
		t.Fatalf("after the fix: page %+v, err %v", page, err)
	}
}

func TestListMissingFile(t *testing.T) {
	st, err := New(t.Context(), storage.Spec{HTTPListFile: filepath.Join(t.TempDir(), "nope.list")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.List(t.Context(), storage.ListOptions{}); !errors.Is(err, storage.ErrBucketNotExist) {
		t.Fatalf("list: %v, want ErrBucketNotExist", err)
	}
	if _, err := st.Stat(t.Context(), "a"); !errors.Is(err, storage.ErrBucketNotExist) {
		t.Fatalf("stat: %v, want ErrBucketNotExist", err)
	}
}

func TestNewChecksSettings(t *testing.T) {
	for _, spec := range []storage.Spec{
		{},
		{HTTPListFile: "relative/http.list"},
		{HTTPListFile: "/x/http.list", HTTPPrefixColumn: 2},
		{HTTPListFile: "/x/http.list", HTTPPrefixColumn: -1},
	} {
		if _, err := New(t.Context(), spec); err == nil {
			t.Errorf("New(%+v) succeeded", spec)
		}
	}
}

func TestListKeepsFileOrderAndPrefixes(t *testing.T) {
	text := "http://a.example/img/ z.jpg\n" +
		"http://a.example/img/ b.jpg\n" +
		"# from the other server\n" +
		"http://b.example/ x/a.jpg\n" +
		"http://a.example/img/ m.jpg\n"
	st := writeList(t, text, storage.Spec{})
	var got []string
	token := ""
	for {
		page, err := st.List(t.Context(), storage.ListOptions{Token: token, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Objects {
			if o.Size != -1 {
				t.Errorf("%s: listed size %d, want -1 (unknown)", o.Key, o.Size)
			}
			got = append(got, o.Key+"@"+PrefixOf(o))
		}
		if token = page.NextToken; token == "" {
			break
		}
	}
	want := []string{"z.jpg@http://a.example/img/", "b.jpg@http://a.example/img/", "x/a.jpg@http://b.example/", "m.jpg@http://a.example/img/"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("listed\n got %q\nwant %q", got, want)
	}
	u, err := st.URL(t.Context(), "x/a.jpg")
	if err != nil || u != "http://b.example/x/a.jpg" {
		t.Fatalf("URL = %q, %v", u, err)
	}
	if !st.Capabilities().UnsortedListing {
		t.Fatal("UnsortedListing not set")
	}
}

func TestListTokenIsAnOffsetAnotherStoreAccepts(t *testing.T) {
	text := "http://h/ d/1\nhttp://h/ e/2\nhttp://h/ d/3\nhttp://h/ top\nhttp://h/ e/4\nhttp://h/ f/5\n"
	st := writeList(t, text, storage.Spec{})
	first, err := st.List(t.Context(), storage.ListOptions{Delimiter: "/", Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(first.Prefixes) != "[d/ e/]" || first.NextToken != fmt.Sprint(len("http://h/ d/1\nhttp://h/ e/2\n")) {
		t.Fatalf("first page %+v", first)
	}
	// A new process resumes: d/ and e/ must not come again.
	other, err := New(t.Context(), storage.Spec{HTTPListFile: st.list.path})
	if err != nil {
		t.Fatal(err)
	}
	rest, err := other.List(t.Context(), storage.ListOptions{Delimiter: "/", Token: first.NextToken})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(keysOf(rest.Objects), rest.Prefixes) != "[top] [f/]" || rest.NextToken != "" {
		t.Fatalf("resumed page %+v", rest)
	}
	for _, bad := range []string{"x", "-1", "3", "99999"} {
		if _, err := other.List(t.Context(), storage.ListOptions{Token: bad}); err == nil {
			t.Errorf("token %q accepted", bad)
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

func TestListNoTrailingNewline(t *testing.T) {
	st := writeList(t, "http://h/ a\nhttp://h/ b", storage.Spec{})
	page, err := st.List(t.Context(), storage.ListOptions{})
	if err != nil || fmt.Sprint(keysOf(page.Objects)) != "[a b]" || page.NextToken != "" {
		t.Fatalf("page %+v, err %v", page, err)
	}
}
