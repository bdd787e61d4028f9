package oss_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/oss"
	"github.com/ossimport/ossimport/internal/storage/oss/osstest"
	"github.com/ossimport/ossimport/internal/storage/storagetest"
)

func TestConformance(t *testing.T) {
	srv := osstest.New(t, osstest.Options{})
	storagetest.Run(t, func(t *testing.T) storage.Store { return openFresh(t, srv) }, storagetest.Options{CopyStorageClass: "IA", CopyEncryption: "AES256"})
}

func TestConformanceSignatureV1(t *testing.T) {
	srv := osstest.New(t, osstest.Options{})
	storagetest.Run(t, func(t *testing.T) storage.Store { return openFresh(t, srv, oss.WithSignatureV1()) }, storagetest.Options{})
}

var bucketSeq atomic.Int64

// openFresh opens a store on a new, empty bucket of srv.
func openFresh(t *testing.T, srv *osstest.Server, opts ...oss.Option) *oss.Store {
	t.Helper()
	name := fmt.Sprintf("bucket-%d", bucketSeq.Add(1))
	srv.CreateBucket(name)
	return open(t, srv, name, opts...)
}

// open opens bucket of srv with srv's credentials.
func open(t *testing.T, srv *osstest.Server, bucket string, opts ...oss.Option) *oss.Store {
	t.Helper()
	st, err := oss.New(t.Context(), specFor(srv, bucket), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func specFor(srv *osstest.Server, bucket string) storage.Spec {
	return storage.Spec{Type: "oss", Endpoint: srv.URL, Region: srv.Region, Bucket: bucket, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey}
}
