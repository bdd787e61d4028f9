package ks3

import (
	"testing"

	"github.com/ossimport/ossimport/internal/storage/s3/s3test"
)

func TestConformance(t *testing.T) {
	s3test.Conformance(t, "ks3", nil)
}

func TestConfig(t *testing.T) {
	s3test.CheckDerivations(t, "ks3", config, []s3test.Derivation{
		{Endpoint: "http://ks3-cn-beijing.ksyun.com", WantEndpoint: "http://ks3-cn-beijing.ksyun.com", WantRegion: "cn-beijing"},
		{Endpoint: "https://ks3-cn-shanghai.ksyuncs.com", WantEndpoint: "https://ks3-cn-shanghai.ksyuncs.com", WantRegion: "cn-shanghai"},
		{Endpoint: "ks3-cn-guangzhou-internal.ksyuncs.com", WantEndpoint: "ks3-cn-guangzhou-internal.ksyuncs.com", WantRegion: "cn-guangzhou"},
		{Endpoint: "http://kss.ksyun.com", WantEndpoint: "http://kss.ksyun.com"},
		{Endpoint: "http://ks3-cn-beijing.ksyun.com", Region: "BEIJING", WantEndpoint: "http://ks3-cn-beijing.ksyun.com", WantRegion: "BEIJING"},
		{Endpoint: "http://127.0.0.1:7070", WantEndpoint: "http://127.0.0.1:7070"},
		{Region: "cn-beijing", WantErr: true},
	}, nil)
}
