package azure

import (
	"crypto/md5"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/testenv"
)

// openStore opens the store the way the engine does, through the registry.
func openStore(t *testing.T, srv *testenv.AzureServer, container string, opts ...func(*storage.Spec)) *Store {
	t.Helper()
	spec := storage.Spec{Type: "azure", Endpoint: srv.Endpoint, AccessKey: srv.Account, SecretKey: srv.Key, Bucket: container}
	for _, o := range opts {
		o(&spec)
	}
	st, err := storage.Open(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	return st.(*Store)
}

// putBlob is the suite's side channel: one Put Blob request through the
// SDK with the Content-* headers and metadata set.
func putBlob(t *testing.T, st storage.Store, key string, data []byte, meta storage.Metadata) {
	t.Helper()
	s := st.(*Store)
	headers := &blob.HTTPHeaders{}
	for _, h := range []struct {
		dst **string
		v   string
	}{
		{&headers.BlobContentType, meta.ContentType},
		{&headers.BlobCacheControl, meta.CacheControl},
		{&headers.BlobContentDisposition, meta.ContentDisposition},
		{&headers.BlobContentEncoding, meta.ContentEncoding},
		{&headers.BlobContentLanguage, meta.ContentLanguage},
	} {
		if h.v != "" {
			*h.dst = to.Ptr(h.v)
		}
	}
	var md map[string]*string
	for k, v := range meta.User {
		if md == nil {
			md = map[string]*string{}
		}
		md[k] = to.Ptr(v)
	}
	_, err := s.client.NewBlockBlobClient(key).UploadBuffer(t.Context(), data, &blockblob.UploadBufferOptions{
		HTTPHeaders: headers, Metadata: md,
	})
	if err != nil {
		t.Fatalf("put %q: %v", key, err)
	}
}

func md5Of(data []byte) []byte {
	sum := md5.Sum(data)
	return sum[:]
}
