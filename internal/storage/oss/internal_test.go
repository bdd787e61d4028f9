package oss

import (
	"hash/crc64"
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
)

func TestRegionOf(t *testing.T) {
	cases := map[string]string{
		"oss-cn-hangzhou.aliyuncs.com":                "cn-hangzhou",
		"oss-cn-hangzhou-internal.aliyuncs.com":       "cn-hangzhou",
		"mybucket.oss-ap-southeast-1.aliyuncs.com":    "ap-southeast-1",
		"oss-us-west-1-internal.aliyuncs.com":         "us-west-1",
		"cn-shanghai.oss.aliyuncs.com":                "cn-shanghai",
		"oss-cn-hzfinance.aliyuncs.com":               "cn-hzfinance",
		"oss-accelerate.aliyuncs.com":                 "",
		"oss-accelerate-overseas.aliyuncs.com":        "",
		"127.0.0.1":                                   "",
		"s3.oss-cn-hangzhou.aliyuncs.com.example.com": "",
		"": "",
	}
	for host, want := range cases {
		if got := regionOf(host); got != want {
			t.Errorf("regionOf(%q) = %q, want %q", host, got, want)
		}
	}
}

func TestServiceID(t *testing.T) {
	id := func(endpoint, region string) string {
		u, err := parseEndpoint(endpoint)
		if err != nil {
			t.Fatal(err)
		}
		return serviceID(u, region)
	}
	same := [][2]string{
		{"http://oss-cn-hangzhou.aliyuncs.com", "oss-cn-hangzhou-internal.aliyuncs.com"},
		{"", "https://OSS-cn-hangzhou.aliyuncs.com"},
	}
	for _, p := range same {
		if a, b := id(p[0], "cn-hangzhou"), id(p[1], "cn-hangzhou"); a != b {
			t.Errorf("%q and %q: %q != %q", p[0], p[1], a, b)
		}
	}
	if id("http://127.0.0.1:1000", "x") == id("http://127.0.0.1:2000", "x") {
		t.Error("servers on different ports compare equal")
	}
	if _, err := parseEndpoint("http://"); err == nil {
		t.Error("empty host accepted")
	}
}

func TestStartAfter(t *testing.T) {
	cases := []struct {
		opts storage.ListOptions
		want string
	}{
		{storage.ListOptions{}, ""},
		{storage.ListOptions{Token: "a/b"}, "a/b"},
		{storage.ListOptions{Token: "a/b/", Delimiter: ""}, "a/b/"},
		{storage.ListOptions{Token: "a/", Delimiter: "/"}, "a/" + afterGroup},
		{storage.ListOptions{Token: "d/e/", Prefix: "d/", Delimiter: "/"}, "d/e/" + afterGroup},
		{storage.ListOptions{Token: "d/", Prefix: "d/", Delimiter: "/"}, "d/"}, // the marker object "d/" itself
		{storage.ListOptions{Token: "d/1", Prefix: "d/", Delimiter: "/"}, "d/1"},
		{storage.ListOptions{Token: "x--", Delimiter: "--"}, "x--" + afterGroup},
	}
	for _, c := range cases {
		if got := startAfter(c.opts); got != c.want {
			t.Errorf("startAfter(%+v) = %q, want %q", c.opts, got, c.want)
		}
	}
}

func TestCombinedCRC(t *testing.T) {
	data := []byte("the quick brown fox jumps over the lazy dog")
	var parts []storage.Part
	for i, chunk := range [][]byte{data[:10], data[10:11], data[11:]} {
		parts = append(parts, storage.Part{Number: i + 1, Size: int64(len(chunk)),
			Checksums: storage.Checksums{CRC64: crc64Of(chunk), HasCRC64: true}})
	}
	if got, ok := combinedCRC(parts); !ok || got != crc64Of(data) {
		t.Fatalf("combinedCRC = %d, %v; want %d", got, ok, crc64Of(data))
	}
	parts[1].Checksums.HasCRC64 = false
	if _, ok := combinedCRC(parts); ok {
		t.Fatal("combined a part without CRC")
	}
}

func crc64Of(b []byte) uint64 { return crc64.Checksum(b, crcTable) }
