package azure

import (
	"errors"
	"io"
	"os"
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
)

// liveSpec returns the spec of a real Azure container from the
// environment, or skips.
func liveSpec(t *testing.T) storage.Spec {
	t.Helper()
	account, key := os.Getenv("OSSIMPORT_TEST_AZURE_ACCOUNT"), os.Getenv("OSSIMPORT_TEST_AZURE_KEY")
	container := os.Getenv("OSSIMPORT_TEST_AZURE_CONTAINER")
	if account == "" || key == "" || container == "" {
		t.Skip("set OSSIMPORT_TEST_AZURE_ACCOUNT, OSSIMPORT_TEST_AZURE_KEY and OSSIMPORT_TEST_AZURE_CONTAINER " +
			"(and OSSIMPORT_TEST_AZURE_ENDPOINT_SUFFIX outside the global cloud) to test against real Azure")
	}
	return storage.Spec{Type: "azure", AccessKey: account, SecretKey: key, Bucket: container,
		Endpoint: os.Getenv("OSSIMPORT_TEST_AZURE_ENDPOINT_SUFFIX")}
}

// TestLive reads a real container without changing it: the first page of
// the listing, and the first object's properties and first bytes.
func TestLive(t *testing.T) {
	spec := liveSpec(t)
	st, err := storage.OpenSource(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	page, err := st.List(t.Context(), storage.ListOptions{Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: first page %d objects, next token %q", st, len(page.Objects), page.NextToken)
	for _, o := range page.Objects {
		if o.Restore || o.IsDir {
			continue
		}
		info, err := st.Stat(t.Context(), o.Key)
		if err != nil || info.Size != o.Size {
			t.Fatalf("stat %q = %+v, %v; listed size %d", o.Key, info, err, o.Size)
		}
		rc, err := st.Open(t.Context(), o.Key, 0, min(info.Size, 1024))
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || int64(len(data)) != min(info.Size, 1024) {
			t.Fatalf("read %q: %d bytes, %v", o.Key, len(data), err)
		}
		break
	}
}

// TestLiveWrongKey checks that real Azure's refusal maps to ErrAccessDenied.
func TestLiveWrongKey(t *testing.T) {
	spec := liveSpec(t)
	spec.SecretKey = "d3Jvbmcga2V5"
	st, err := storage.OpenSource(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.List(t.Context(), storage.ListOptions{Limit: 1}); !errors.Is(err, storage.ErrAccessDenied) {
		t.Fatalf("list with a wrong key: %v, want ErrAccessDenied", err)
	}
}
