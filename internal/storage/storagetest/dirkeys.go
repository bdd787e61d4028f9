package storagetest

import (
	"bytes"
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
)

// testDirKeys checks keys ending in "/": a zero-byte marker and, where
// the store takes it, a "/" key holding data are each listed exactly once
// with IsDir and their size, and Stat agrees; a store that refuses a "/"
// key with data must say so with an error, not drop it. A store claiming
// Capabilities.DirMarkers must hold markers.
func testDirKeys(t *testing.T, e *env) {
	if e.opts.NoDirMarkers {
		if e.caps().DirMarkers {
			t.Fatalf("%s claims DirMarkers but the suite was told it cannot hold keys ending in /", e.st)
		}
		t.Skip("the store cannot hold keys ending in /")
	}
	e.put(t, "m/", nil, storage.Metadata{})
	e.put(t, "m/f", []byte("file"), storage.Metadata{})
	data := []byte("twenty-one bytes here")
	want := map[string]int64{"m/": 0, "m/f": 4}
	if err := e.tryPut(t, "x/", data); err == nil {
		want["x/"] = int64(len(data))
	} else {
		t.Logf("the store refuses a / key with data (reported, not dropped): %v", err)
	}
	seen := map[string]int{}
	for token := ""; ; {
		page, err := e.lister(t).List(e.ctx, storage.ListOptions{Token: token, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Objects {
			seen[o.Key]++
			size, ok := want[o.Key]
			switch {
			case !ok:
				t.Errorf("listed unexpected %q", o.Key)
			case o.IsDir != (o.Key[len(o.Key)-1] == '/'):
				t.Errorf("%q listed with IsDir %v", o.Key, o.IsDir)
			case o.Size >= 0 && o.Size != size:
				t.Errorf("%q listed with size %d, want %d", o.Key, o.Size, size)
			}
		}
		if token = page.NextToken; token == "" {
			break
		}
	}
	for key, size := range want {
		if seen[key] != 1 {
			t.Errorf("%q listed %d times, want once", key, seen[key])
		}
		info := e.stat(t, key)
		if info.Size != size || info.IsDir != (key[len(key)-1] == '/') {
			t.Errorf("stat %q: size %d IsDir %v, want size %d", key, info.Size, info.IsDir, size)
		}
	}
	if _, ok := want["x/"]; ok {
		mustEqualBytes(t, "the / key with data", e.read(t, "x/"), data)
	}
}

// tryPut stores an object and returns the store's error instead of
// failing; stores written through the side channel always succeed.
func (e *env) tryPut(t *testing.T, key string, data []byte) error {
	t.Helper()
	if e.opts.Put != nil {
		e.opts.Put(t, e.st, key, data, storage.Metadata{})
		return nil
	}
	_, err := e.writer(t).Put(e.ctx, key, bytes.NewReader(data), int64(len(data)), storage.Metadata{})
	return err
}
