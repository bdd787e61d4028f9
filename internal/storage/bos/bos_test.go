package bos

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
			Type: "bos", Endpoint: srv.Endpoint, Bucket: srv.CreateBucket(t, ""),
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
		{"http://bj.bcebos.com", "", "https://s3.bj.bcebos.com", "bj", false},
		{"http://gz.bcebos.com", "", "https://s3.gz.bcebos.com", "gz", false},
		{"su.bcebos.com", "", "https://s3.su.bcebos.com", "su", false},
		{"https://s3.fwh.bcebos.com", "", "https://s3.fwh.bcebos.com", "fwh", false},
		{"http://hkg.bcebos.com", "hkg", "https://s3.hkg.bcebos.com", "hkg", false},
		{"", "bd", "https://s3.bd.bcebos.com", "bd", false},
		{"http://127.0.0.1:7070", "", "http://127.0.0.1:7070", "", false},
		{"https://bos-proxy.example.com", "bj", "https://bos-proxy.example.com", "bj", false},
		{"", "", "", "", true},
	}
	for _, c := range cases {
		cfg, err := config(storage.Spec{Type: "bos", Endpoint: c.endpoint, Region: c.region, Bucket: "b"})
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
