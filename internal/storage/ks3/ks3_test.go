package ks3

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/s3/s3test"
	"github.com/ossimport/ossimport/internal/testenv"
)

func TestConformance(t *testing.T) {
	s3test.Conformance(t, "ks3", nil)
}

func TestConfig(t *testing.T) {
	s3test.CheckDerivations(t, "ks3", config, []s3test.Derivation{
		{Endpoint: "http://ks3-cn-beijing.ksyun.com", WantEndpoint: "http://ks3-cn-beijing.ksyun.com", WantRegion: "BEIJING"},
		{Endpoint: "https://ks3-cn-shanghai.ksyuncs.com", WantEndpoint: "https://ks3-cn-shanghai.ksyuncs.com", WantRegion: "SHANGHAI"},
		{Endpoint: "ks3-cn-guangzhou-internal.ksyuncs.com", WantEndpoint: "ks3-cn-guangzhou-internal.ksyuncs.com", WantRegion: "GUANGZHOU"},
		{Endpoint: "https://mybkt.ks3-cn-beijing.ksyuncs.com", WantEndpoint: "https://mybkt.ks3-cn-beijing.ksyuncs.com", WantRegion: "BEIJING"},
		{Endpoint: "http://ks3-cn-hk-1.ksyuncs.com", WantEndpoint: "http://ks3-cn-hk-1.ksyuncs.com", WantRegion: "HONGKONG"},
		{Endpoint: "http://ks3-sgp.ksyuncs.com", WantEndpoint: "http://ks3-sgp.ksyuncs.com", WantRegion: "SINGAPORE"},
		{Endpoint: "http://ks3-rus-internal.ksyuncs.com", WantEndpoint: "http://ks3-rus-internal.ksyuncs.com", WantRegion: "RUSSIA"},
		{Endpoint: "http://ks3-jr-beijing.ksyuncs.com", WantEndpoint: "http://ks3-jr-beijing.ksyuncs.com", WantRegion: "JR_BEIJING"},
		{Endpoint: "http://ks3-cn-chengdu.ksyuncs.com", WantEndpoint: "http://ks3-cn-chengdu.ksyuncs.com", WantRegion: "CHENGDU"},
		// The original tool's sample endpoint: KS3's first region.
		{Endpoint: "http://kss.ksyun.com", WantEndpoint: "http://kss.ksyun.com", WantRegion: "HANGZHOU"},
		{Endpoint: "http://ks3-cn-beijing.ksyun.com", Region: "cn-beijing", WantEndpoint: "http://ks3-cn-beijing.ksyun.com", WantRegion: "cn-beijing"},
		{Endpoint: "http://127.0.0.1:7070", WantEndpoint: "http://127.0.0.1:7070"},
		{Endpoint: "http://ks3-cn-beijing.example.com", WantEndpoint: "http://ks3-cn-beijing.example.com"},
		{Region: "cn-beijing", WantErr: true},
	}, nil)
}

// toServer is an HTTP client that sends every request to addr whatever
// its host name, as a resolver pointing KS3's names at the test server
// would: the requests keep their KS3 Host header, which is signed.
func toServer(addr string) *http.Client {
	d := &net.Dialer{}
	return &http.Client{Transport: &http.Transport{Proxy: nil,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		}}}
}

// TestSignsForTheRegionKS3Expects opens KS3 stores on KS3 endpoint names
// against versitygw serving the region KS3 signs for there (versitygw
// refuses a signature for another region): a Put and a Get go through
// with the region derived from the endpoint alone, and a store signing
// for the region as the host spells it is refused.
func TestSignsForTheRegionKS3Expects(t *testing.T) {
	for _, tc := range []struct{ endpoint, region string }{
		{"ks3-cn-beijing.ksyuncs.com", "BEIJING"},
		{"kss.ksyun.com", "HANGZHOU"},
	} {
		t.Run(tc.region, func(t *testing.T) {
			srv := testenv.VersityGW(t, testenv.WithRegion(tc.region))
			bucket := srv.CreateBucket(t, "")
			u, err := url.Parse(srv.Endpoint)
			if err != nil {
				t.Fatal(err)
			}
			open := func(region string) storage.Destination {
				st, err := storage.Open(t.Context(), storage.Spec{Type: "ks3", Endpoint: "http://" + tc.endpoint + ":" + u.Port(),
					Region: region, Bucket: bucket, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, PathStyle: true,
					HTTPClient: toServer(u.Host)})
				if err != nil {
					t.Fatal(err)
				}
				return st.(storage.Destination)
			}
			data := []byte("signed for " + tc.region)
			st := open("")
			if _, err := st.Put(t.Context(), "k", bytes.NewReader(data), int64(len(data)), storage.Metadata{}); err != nil {
				t.Fatalf("put on %s signed for the derived region: %v", tc.endpoint, err)
			}
			r, err := st.Open(t.Context(), "k", 0, -1)
			if err != nil {
				t.Fatalf("get: %v", err)
			}
			got, err := io.ReadAll(r)
			r.Close()
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("read back %q (%v), want %q", got, err, data)
			}
			// The control: the server does check the region.
			wrong := strings.ToLower(tc.region) + "-1"
			if _, err := open(wrong).Put(t.Context(), "k2", bytes.NewReader(data), int64(len(data)), storage.Metadata{}); err == nil {
				t.Fatalf("a put signed for %s was accepted: the server does not check the region", wrong)
			}
		})
	}
}
