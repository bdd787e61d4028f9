package qiniu

import (
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/s3"
	"github.com/ossimport/ossimport/internal/storage/s3/s3test"
)

func TestConformance(t *testing.T) {
	s3test.Conformance(t, "qiniu", func(s *storage.Spec) { s.GetObjectMetaMode = "stat" })
}

func TestConfig(t *testing.T) {
	s3test.CheckDerivations(t, "qiniu", config, []s3test.Derivation{
		{Endpoint: "http://xxx.bkt.clouddn.com", Region: "cn-east-1", WantEndpoint: "https://s3.cn-east-1.qiniucs.com", WantRegion: "cn-east-1"},
		{Region: "ap-southeast-1", WantEndpoint: "https://s3.ap-southeast-1.qiniucs.com", WantRegion: "ap-southeast-1"},
		{Endpoint: "https://s3.cn-north-1.qiniucs.com", WantEndpoint: "https://s3.cn-north-1.qiniucs.com", WantRegion: "cn-north-1"},
		{Endpoint: "s3-cn-south-1.qiniucs.com", WantEndpoint: "s3-cn-south-1.qiniucs.com", WantRegion: "cn-south-1"},
		{Endpoint: "https://s3.cn-east-2.qiniucs.com", Region: "cn-east-2", WantEndpoint: "https://s3.cn-east-2.qiniucs.com", WantRegion: "cn-east-2"},
		{Endpoint: "http://127.0.0.1:7070", WantEndpoint: "http://127.0.0.1:7070"},
		{Endpoint: "http://localhost:9000", Region: "us-north-1", WantEndpoint: "http://localhost:9000", WantRegion: "us-north-1"},
		{Endpoint: "http://xxx.bkt.clouddn.com", WantErr: true},
		{WantErr: true},
		{Endpoint: "http://cdn.example.com", Region: "cn east", WantErr: true},
	}, func(c s3.Config) bool { return c.ETagNotMD5 })
}
