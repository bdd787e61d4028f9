package azure

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/testenv"
)

// TestAzurite runs the focused tests that need a server against one
// Azurite.
func TestAzurite(t *testing.T) {
	srv := testenv.Azurite(t)
	t.Run("MetadataAndHeaders", func(t *testing.T) { testMetadataAndHeaders(t, srv) })
	t.Run("ArchivedBlobNeedsRestore", func(t *testing.T) { testArchivedBlobNeedsRestore(t, srv) })
	t.Run("ListTokenWorksInAnotherStore", func(t *testing.T) { testListTokenWorksInAnotherStore(t, srv) })
	t.Run("ErrorMapping", func(t *testing.T) { testErrorMapping(t, srv) })
}

func TestServiceURL(t *testing.T) {
	cases := []struct{ domain, want string }{
		{"", "https://acct.blob.core.windows.net/"},
		{"core.windows.net", "https://acct.blob.core.windows.net/"},
		{"core.chinacloudapi.cn", "https://acct.blob.core.chinacloudapi.cn/"},
		{".core.chinacloudapi.cn/", "https://acct.blob.core.chinacloudapi.cn/"},
		{"blob.core.chinacloudapi.cn", "https://acct.blob.core.chinacloudapi.cn/"},
		{"acct.blob.core.usgovcloudapi.net", "https://acct.blob.core.usgovcloudapi.net/"},
		{"http://127.0.0.1:10000/devstoreaccount1", "http://127.0.0.1:10000/devstoreaccount1/"},
		{"https://acct.blob.core.windows.net/", "https://acct.blob.core.windows.net/"},
		{"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=k;EndpointSuffix=core.chinacloudapi.cn", "https://acct.blob.core.chinacloudapi.cn/"},
		{"DefaultEndpointsProtocol=http;AccountName=acct;EndpointSuffix=core.windows.net", "http://acct.blob.core.windows.net/"},
		{"AccountName=devstoreaccount1;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;", "http://127.0.0.1:10000/devstoreaccount1/"},
	}
	for _, c := range cases {
		got, err := ServiceURL("acct", c.domain)
		if err != nil || got != c.want {
			t.Errorf("ServiceURL(%q) = %q, %v; want %q", c.domain, got, err, c.want)
		}
	}
	if _, err := ServiceURL("acct", "core windows net"); err == nil {
		t.Error("a suffix with spaces was accepted")
	}
}

func TestNewChecksSettings(t *testing.T) {
	good := storage.Spec{AccessKey: "acct", SecretKey: "a2V5", Bucket: "c"}
	for _, bad := range []func(*storage.Spec){
		func(s *storage.Spec) { s.AccessKey = "" },
		func(s *storage.Spec) { s.SecretKey = "" },
		func(s *storage.Spec) { s.Bucket = "" },
		func(s *storage.Spec) { s.Bucket = "c/dir" },
		func(s *storage.Spec) { s.SecretKey = "not base64!" },
	} {
		spec := good
		bad(&spec)
		if _, err := New(t.Context(), spec); err == nil {
			t.Errorf("New(%+v) succeeded", spec)
		} else if strings.Contains(err.Error(), "not base64!") {
			t.Errorf("error repeats the secret key: %v", err)
		}
	}
	st, err := New(t.Context(), good)
	if err != nil {
		t.Fatal(err)
	}
	if s := st.String(); s != "azure:https://acct.blob.core.windows.net/c" || strings.Contains(s, "a2V5") {
		t.Errorf("String() = %q", s)
	}
}

func testMetadataAndHeaders(t *testing.T, srv *testenv.AzureServer) {
	st := openStore(t, srv, srv.CreateContainer(t, ""))
	meta := storage.Metadata{
		ContentType: "image/png", CacheControl: "max-age=3600", ContentDisposition: `attachment; filename="x.png"`,
		ContentEncoding: "identity", ContentLanguage: "en",
		User: map[string]string{"Owner": "ops", "src_mtime": "1700000000"},
	}
	data := []byte("png data")
	putBlob(t, st, "meta.png", data, meta)
	info, err := st.Stat(t.Context(), "meta.png")
	if err != nil {
		t.Fatal(err)
	}
	meta.User = map[string]string{"owner": "ops", "src_mtime": "1700000000"} // keys come back lower case
	if fmt.Sprint(info.Meta) != fmt.Sprint(meta) {
		t.Errorf("meta\n got %+v\nwant %+v", info.Meta, meta)
	}
	// Put Blob stores the content MD5 the service computed.
	if want := md5Of(data); !bytes.Equal(info.Checksums.MD5, want) {
		t.Errorf("MD5 = %x, want %x", info.Checksums.MD5, want)
	}
	if info.ETag == "" || strings.Contains(info.ETag, `"`) || info.Size != int64(len(data)) || info.ModTime.IsZero() {
		t.Errorf("stat = %+v", info)
	}
}

func testArchivedBlobNeedsRestore(t *testing.T, srv *testenv.AzureServer) {
	st := openStore(t, srv, srv.CreateContainer(t, ""))
	putBlob(t, st, "cold/a.bin", []byte("archived"), storage.Metadata{})
	putBlob(t, st, "cool/b.bin", []byte("cool"), storage.Metadata{})
	ctx := t.Context()
	if _, err := st.client.NewBlobClient("cold/a.bin").SetTier(ctx, blob.AccessTierArchive, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := st.client.NewBlobClient("cool/b.bin").SetTier(ctx, blob.AccessTierCool, nil); err != nil {
		t.Fatal(err)
	}
	info, err := st.Stat(ctx, "cold/a.bin")
	if err != nil || !info.Restore || info.StorageClass != "Archive" {
		t.Fatalf("stat archived = %+v, %v; want Restore and StorageClass Archive", info, err)
	}
	if info, err := st.Stat(ctx, "cool/b.bin"); err != nil || info.Restore || info.StorageClass != "Cool" {
		t.Fatalf("stat cool = %+v, %v", info, err)
	}
	page, err := st.List(ctx, storage.ListOptions{})
	if err != nil || len(page.Objects) != 2 || !page.Objects[0].Restore || page.Objects[1].Restore {
		t.Fatalf("list = %+v, %v; want cold/a.bin with Restore", page.Objects, err)
	}
	rc, err := st.Open(ctx, "cold/a.bin", 0, -1)
	if err == nil {
		_, err = io.ReadAll(rc)
		rc.Close()
	}
	if !errors.Is(err, storage.ErrNeedsRestore) {
		t.Fatalf("open archived: %v, want ErrNeedsRestore", err)
	}
}

func testListTokenWorksInAnotherStore(t *testing.T, srv *testenv.AzureServer) {
	container := srv.CreateContainer(t, "")
	st := openStore(t, srv, container)
	var want []string
	for i := range 7 {
		key := fmt.Sprintf("d%d/k", i)
		want = append(want, key)
		putBlob(t, st, key, []byte(key), storage.Metadata{})
	}
	for _, delim := range []string{"", "/"} {
		first, err := st.List(t.Context(), storage.ListOptions{Delimiter: delim, Limit: 3})
		if err != nil || first.NextToken == "" {
			t.Fatalf("first page %+v, %v", first, err)
		}
		got := append(keysOf(first.Objects), first.Prefixes...)
		other := openStore(t, srv, container) // as after a restart
		for token := first.NextToken; token != ""; {
			page, err := other.List(t.Context(), storage.ListOptions{Delimiter: delim, Token: token, Limit: 2})
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, keysOf(page.Objects)...)
			got = append(got, page.Prefixes...)
			token = page.NextToken
		}
		wantHere := want
		if delim != "" {
			wantHere = nil
			for _, k := range want {
				wantHere = append(wantHere, strings.TrimSuffix(k, "k"))
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(wantHere) {
			t.Errorf("delimiter %q: listed %q, want %q", delim, got, wantHere)
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

func testErrorMapping(t *testing.T, srv *testenv.AzureServer) {
	container := srv.CreateContainer(t, "")
	ctx := t.Context()

	wrongKey := openStore(t, srv, container, func(s *storage.Spec) { s.SecretKey = "d3Jvbmcga2V5" })
	_, err := wrongKey.List(ctx, storage.ListOptions{})
	if !errors.Is(err, storage.ErrAccessDenied) || !strings.Contains(err.Error(), "srcSecretKey") {
		t.Errorf("wrong key: %v, want ErrAccessDenied naming srcSecretKey", err)
	}
	if strings.Contains(err.Error(), srv.Key) || strings.Contains(err.Error(), "d3Jvbmcga2V5") {
		t.Errorf("error shows a key: %v", err)
	}
	if strings.Count(err.Error(), "\n") > 0 {
		t.Errorf("error spans lines: %q", err)
	}

	noContainer := openStore(t, srv, "no-such-container")
	if _, err := noContainer.List(ctx, storage.ListOptions{}); !errors.Is(err, storage.ErrBucketNotExist) {
		t.Errorf("list missing container: %v, want ErrBucketNotExist", err)
	}
	if _, err := noContainer.Stat(ctx, "a"); !errors.Is(err, storage.ErrBucketNotExist) && !errors.Is(err, storage.ErrNotExist) {
		t.Errorf("stat in missing container: %v", err)
	}
}

// busyTransport answers every request with 503 ServerBusy.
type busyTransport struct{ calls atomic.Int32 }

func (b *busyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	b.calls.Add(1)
	h := http.Header{}
	h.Set("x-ms-error-code", "ServerBusy")
	h.Set("retry-after-ms", "1") // keep the SDK's own retries quick
	return &http.Response{StatusCode: http.StatusServiceUnavailable, Status: "503 Server Busy", Header: h,
		Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
}

func TestServerBusyIsTransient(t *testing.T) {
	bt := &busyTransport{}
	st, err := New(t.Context(), storage.Spec{AccessKey: "acct", SecretKey: "a2V5", Bucket: "c",
		HTTPClient: &http.Client{Transport: bt}})
	if err != nil {
		t.Fatal(err)
	}
	_, statErr := st.Stat(t.Context(), "a")
	_, listErr := st.List(t.Context(), storage.ListOptions{})
	_, openErr := st.Open(t.Context(), "a", 0, -1)
	for _, err := range []error{statErr, listErr, openErr} {
		if !storage.IsTransient(err) {
			t.Errorf("%v: not transient", err)
		}
	}
	if bt.calls.Load() == 0 {
		t.Fatal("Spec.HTTPClient was not used")
	}
}

func TestTruncatedDownloadIsTransient(t *testing.T) {
	tr := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		h := http.Header{}
		h.Set("Content-Length", "100")
		return &http.Response{StatusCode: http.StatusOK, Status: "200 OK", Header: h, ContentLength: 100,
			Body: io.NopCloser(io.MultiReader(strings.NewReader("short"), errReader{io.ErrUnexpectedEOF})), Request: r}, nil
	})
	st, err := New(t.Context(), storage.Spec{AccessKey: "acct", SecretKey: "a2V5", Bucket: "c",
		HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := st.Open(t.Context(), "a", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := io.ReadAll(rc); !errors.Is(err, io.ErrUnexpectedEOF) || !storage.IsTransient(err) {
		t.Fatalf("read: %v, want a transient io.ErrUnexpectedEOF", err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
