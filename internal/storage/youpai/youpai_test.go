package youpai

import (
	"net/http"
	"sync"
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/storagetest"
	"github.com/ossimport/ossimport/internal/storage/youpai/youpaitest"
)

func TestConformance(t *testing.T) {
	var mu sync.Mutex
	servers := map[storage.Store]*youpaitest.Server{}
	storagetest.Run(t, func(t *testing.T) storage.Store {
		srv, bucket := newServer(t)
		st := openStore(t, srv, bucket)
		mu.Lock()
		servers[st] = srv
		mu.Unlock()
		return st
	}, storagetest.Options{
		Put: func(t *testing.T, st storage.Store, key string, data []byte, meta storage.Metadata) {
			mu.Lock()
			srv := servers[st]
			mu.Unlock()
			srv.Put(t, testBucket, key, data, metaHeader(meta))
		},
		NoMetadata:   true, // UPYUN keeps Content-Type and x-upyun-meta-*, not the other Content-* headers
		NoDirMarkers: true, // folders are real: "a" and "a/b" cannot both be files
	})
}

const testBucket = "ossimport-src"

func newServer(t *testing.T) (*youpaitest.Server, string) {
	t.Helper()
	srv := youpaitest.New(t)
	srv.CreateBucket(t, testBucket)
	return srv, testBucket
}

// openStore opens bucket of srv through the registry, with edit applied
// to the spec first.
func openStore(t *testing.T, srv *youpaitest.Server, bucket string, edit ...func(*storage.Spec)) *Store {
	t.Helper()
	spec := storage.Spec{Type: "youpai", Endpoint: srv.URL, Bucket: bucket, AccessKey: srv.Operator, SecretKey: srv.Password}
	for _, f := range edit {
		f(&spec)
	}
	st, err := storage.Open(t.Context(), spec)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return st.(*Store)
}

func metaHeader(meta storage.Metadata) http.Header {
	h := http.Header{}
	if meta.ContentType != "" {
		h.Set("Content-Type", meta.ContentType)
	}
	for k, v := range meta.User {
		h.Set("X-Upyun-Meta-"+k, v)
	}
	return h
}
