package local

import (
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
)

// TestLookAheadKeepsOrderAndAnswers lists directories big enough for the
// parallel lookups (files between subdirectories, a file removed after
// the directory was read) in pages, and checks every file comes once, in
// key order, with its own size.
func TestLookAheadKeepsOrderAndAnswers(t *testing.T) {
	root := t.TempDir()
	var keys []string
	for i := range 1500 {
		keys = append(keys, fmt.Sprintf("big/f%04d", i))
		if i%400 == 0 {
			keys = append(keys, fmt.Sprintf("big/f%04d.d/x", i))
		}
	}
	makeFiles(t, root, keys...)
	st := newStore(t, root, Options{})
	opts := storage.ListOptions{Limit: 97}
	var got []string
	for first := true; ; first = false {
		page, err := st.List(t.Context(), opts)
		if err != nil {
			t.Fatal(err)
		}
		if first { // its directory was read, its batch not looked up yet
			if err := os.Remove(root + "/big/f1499"); err != nil {
				t.Fatal(err)
			}
		}
		for _, o := range page.Objects {
			if o.Size != int64(len(o.Key)) {
				t.Fatalf("%s listed with size %d, want %d", o.Key, o.Size, len(o.Key))
			}
			got = append(got, o.Key)
		}
		if page.NextToken == "" {
			break
		}
		opts.Token = page.NextToken
	}
	want := slices.DeleteFunc(slices.Clone(keys), func(k string) bool { return k == "big/f1499" })
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("listed %d keys, want %d in order", len(got), len(want))
	}
}
