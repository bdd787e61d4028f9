package qiniu

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
			Type: "qiniu", Endpoint: srv.Endpoint, Bucket: srv.CreateBucket(t, ""),
			AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, GetObjectMetaMode: "stat",
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
		{"http://xxx.bkt.clouddn.com", "cn-east-1", "https://s3.cn-east-1.qiniucs.com", "cn-east-1", false},
		{"", "ap-southeast-1", "https://s3.ap-southeast-1.qiniucs.com", "ap-southeast-1", false},
		{"https://s3.cn-north-1.qiniucs.com", "", "https://s3.cn-north-1.qiniucs.com", "cn-north-1", false},
		{"s3-cn-south-1.qiniucs.com", "", "s3-cn-south-1.qiniucs.com", "cn-south-1", false},
		{"https://s3.cn-east-2.qiniucs.com", "cn-east-2", "https://s3.cn-east-2.qiniucs.com", "cn-east-2", false},
		{"http://127.0.0.1:7070", "", "http://127.0.0.1:7070", "", false},
		{"http://localhost:9000", "us-north-1", "http://localhost:9000", "us-north-1", false},
		{"http://xxx.bkt.clouddn.com", "", "", "", true},
		{"", "", "", "", true},
		{"http://cdn.example.com", "cn east", "", "", true},
	}
	for _, c := range cases {
		cfg, err := config(storage.Spec{Type: "qiniu", Endpoint: c.endpoint, Region: c.region, Bucket: "b"})
		if c.wantErr {
			if err == nil {
				t.Errorf("%q/%q: no error", c.endpoint, c.region)
			}
			continue
		}
		if err != nil || cfg.Endpoint != c.wantEndpoint || cfg.Region != c.wantRe || cfg.Bucket != "b" || !cfg.ETagNotMD5 {
			t.Errorf("%q/%q: got %q region %q bucket %q (%v), want %q region %q",
				c.endpoint, c.region, cfg.Endpoint, cfg.Region, cfg.Bucket, err, c.wantEndpoint, c.wantRe)
		}
	}
}
