package bos

import (
	"testing"

	"github.com/ossimport/ossimport/internal/storage/s3/s3test"
)

func TestConformance(t *testing.T) {
	s3test.Conformance(t, "bos", nil)
}

func TestConfig(t *testing.T) {
	s3test.CheckDerivations(t, "bos", config, []s3test.Derivation{
		{Endpoint: "http://bj.bcebos.com", WantEndpoint: "https://s3.bj.bcebos.com", WantRegion: "bj"},
		{Endpoint: "http://gz.bcebos.com", WantEndpoint: "https://s3.gz.bcebos.com", WantRegion: "gz"},
		{Endpoint: "su.bcebos.com", WantEndpoint: "https://s3.su.bcebos.com", WantRegion: "su"},
		{Endpoint: "https://s3.fwh.bcebos.com", WantEndpoint: "https://s3.fwh.bcebos.com", WantRegion: "fwh"},
		{Endpoint: "http://hkg.bcebos.com", Region: "hkg", WantEndpoint: "https://s3.hkg.bcebos.com", WantRegion: "hkg"},
		{Region: "bd", WantEndpoint: "https://s3.bd.bcebos.com", WantRegion: "bd"},
		{Endpoint: "http://127.0.0.1:7070", WantEndpoint: "http://127.0.0.1:7070"},
		{Endpoint: "https://bos-proxy.example.com", Region: "bj", WantEndpoint: "https://bos-proxy.example.com", WantRegion: "bj"},
		{WantErr: true},
	}, nil)
}
