package local

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
)

// TestCheckKeyNotOSS: a local destination takes names OSS refuses for
// length (1100 bytes in short path elements), and still refuses names
// that are not text.
func TestCheckKeyNotOSS(t *testing.T) {
	st, err := New(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("abcdefghi/", 110) + "f"
	if storage.CheckOSSKey(long) == nil {
		t.Fatal("the long name passes the OSS rules, so the test proves nothing")
	}
	if err := storage.CheckKey(st, long); err != nil {
		t.Fatalf("long name: %v", err)
	}
	if _, err := st.Put(t.Context(), long, bytes.NewReader([]byte("x")), 1, storage.Metadata{}); err != nil {
		t.Fatalf("writing the long name: %v", err)
	}
	for _, bad := range []string{"", "/abs", "bad\xffname", "line\nbreak"} {
		if err := storage.CheckKey(st, bad); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("%q: %v, want ErrInvalidKey", bad, err)
		}
	}
}
