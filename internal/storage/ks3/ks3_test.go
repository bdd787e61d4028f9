package ks3

import (
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/storagetest"
	"github.com/ossimport/ossimport/internal/testenv"
)

func TestConformance(t *testing.T) {
	srv := testenv.VersityGW(t)
	storagetest.Run(t, func(t *testing.T) storage.Store {
		st, err := storage.Open(t.Context(), storage.Spec{
			Type: "ks3", Endpoint: srv.Endpoint, Bucket: srv.CreateBucket(t, ""),
			AccessKey: srv.AccessKey, SecretKey: srv.SecretKey,
		})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}, storagetest.Options{
		NoKeyDirConflicts: true, // versitygw cannot hold "a" beside "a/b"; see the s3 package's test
	})
}

func TestConfig(t *testing.T) {
	cases := []struct {
		endpoint, region     string
		wantEndpoint, wantRe string
		wantErr              bool
	}{
		{"http://ks3-cn-beijing.ksyun.com", "", "http://ks3-cn-beijing.ksyun.com", "cn-beijing", false},
		{"https://ks3-cn-shanghai.ksyuncs.com", "", "https://ks3-cn-shanghai.ksyuncs.com", "cn-shanghai", false},
		{"ks3-cn-guangzhou-internal.ksyuncs.com", "", "ks3-cn-guangzhou-internal.ksyuncs.com", "cn-guangzhou", false},
		{"http://kss.ksyun.com", "", "http://kss.ksyun.com", "", false},
		{"http://ks3-cn-beijing.ksyun.com", "BEIJING", "http://ks3-cn-beijing.ksyun.com", "BEIJING", false},
		{"http://127.0.0.1:7070", "", "http://127.0.0.1:7070", "", false},
		{"", "cn-beijing", "", "", true},
	}
	for _, c := range cases {
		cfg, err := config(storage.Spec{Type: "ks3", Endpoint: c.endpoint, Region: c.region, Bucket: "b"})
		if c.wantErr {
			if err == nil {
				t.Errorf("%q/%q: no error", c.endpoint, c.region)
			}
			continue
		}
		if err != nil || cfg.Endpoint != c.wantEndpoint || cfg.Region != c.wantRe || cfg.Bucket != "b" {
			t.Errorf("%q/%q: got %q region %q bucket %q (%v), want %q region %q",
				c.endpoint, c.region, cfg.Endpoint, cfg.Region, cfg.Bucket, err, c.wantEndpoint, c.wantRe)
		}
	}
}
