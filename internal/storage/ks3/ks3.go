// Package ks3 opens Kingsoft Cloud KS3 buckets (srcType=ks3) through KS3's
// S3-compatible API, delegating everything to package s3.
//
// Endpoint derivation. KS3 serves the S3 API on its native endpoints, so
// srcDomain (http://ks3-cn-beijing.ksyun.com, http://ks3-cn-beijing.ksyuncs.com,
// the legacy http://kss.ksyun.com, ...) is used as given.
//
// Signing region. KS3 names its regions for signing with upper-case codes,
// not with the ids in its host names: the KS3 SDKs sign for "BEIJING" on
// ks3-cn-beijing.ksyuncs.com and for "HANGZHOU" on the legacy
// kss.ksyun.com (see regionFromHost for the table and its sources).
// Requests are signed for srcRegion when set, else for the region of a
// KS3 host (its -internal form and a bucket label in front included),
// else for us-east-1 (an IP address or a private deployment: set
// srcRegion).
package ks3

import (
	"fmt"
	"strings"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/s3"
)

func init() {
	storage.Register("ks3", s3.Opener(config))
}

// config derives the S3 configuration from an ossimport-style spec.
func config(spec storage.Spec) (s3.Config, error) {
	if spec.Endpoint == "" {
		return s3.Config{}, fmt.Errorf("open ks3 store: srcDomain is empty: set it to the bucket's endpoint, e.g. http://ks3-cn-beijing.ksyuncs.com")
	}
	cfg := s3.ConfigFromSpec(spec)
	cfg.Name = "ks3"
	if cfg.Region == "" {
		cfg.Region = regionFromHost(s3.HostOf(spec.Endpoint))
	}
	return cfg, nil
}

// hostRegions maps the region part of KS3 host names (ks3-<part>[-internal])
// to the region KS3 signs for. Sources: KS3's "Endpoint and Region"
// table (docs.ksyun.com/documents/6761) as the KS3 Go SDK's users copy
// it (Region with Endpoint, e.g. "BEIJING" with ks3-cn-beijing.ksyuncs.com,
// "HONGKONG" with ks3-cn-hk-1.ksyuncs.com, "JR_BEIJING" with
// ks3-jr-beijing.ksyuncs.com), and the SDK's own tests ("HANGZHOU" with
// kss.ksyun.com).
var hostRegions = map[string]string{
	"cn-beijing":   "BEIJING",
	"cn-shanghai":  "SHANGHAI",
	"cn-guangzhou": "GUANGZHOU",
	"cn-hangzhou":  "HANGZHOU",
	"cn-hk-1":      "HONGKONG",
	"cn-hongkong":  "HONGKONG",
	"cn-qingyang":  "QINGYANG",
	"cn-ningbo":    "NINGBO",
	"cn-qinghai":   "QINGHAI",
	"rus":          "RUSSIA",
	"sgp":          "SINGAPORE",
	"jr-beijing":   "JR_BEIJING",
	"jr-shanghai":  "JR_SHANGHAI",
}

// regionFromHost returns the signing region of a KS3 host name: "BEIJING"
// for ks3-cn-beijing.ksyuncs.com, ks3-cn-beijing-internal.ksyun.com or
// mybucket.ks3-cn-beijing.ksyuncs.com, "HANGZHOU" for the legacy
// kss.ksyun.com; a region not in the table is its city in upper case
// (ks3-cn-chengdu: "CHENGDU"). "" (the S3 default) for other hosts.
func regionFromHost(host string) string {
	host = strings.ToLower(host)
	if !strings.HasSuffix(host, ".ksyun.com") && !strings.HasSuffix(host, ".ksyuncs.com") {
		return ""
	}
	for _, label := range strings.Split(host, ".") {
		if label == "kss" || label == "kss-internal" {
			return "HANGZHOU"
		}
		part, ok := strings.CutPrefix(label, "ks3-")
		if !ok {
			continue
		}
		part = strings.TrimSuffix(part, "-internal")
		if r, ok := hostRegions[part]; ok {
			return r
		}
		city := strings.TrimPrefix(part, "cn-")
		return strings.ToUpper(strings.ReplaceAll(city, "-", "_"))
	}
	return ""
}
