// Package ks3 opens Kingsoft Cloud KS3 buckets (srcType=ks3) through KS3's
// S3-compatible API, delegating everything to package s3.
//
// Endpoint derivation. KS3 serves the S3 API on its native endpoints, so
// srcDomain (http://ks3-cn-beijing.ksyun.com, http://ks3-cn-beijing.ksyuncs.com,
// the legacy http://kss.ksyun.com, ...) is used as given. Requests are signed
// for srcRegion, else the region in a ks3-<region>[-internal] host
// ("cn-beijing"), else us-east-1 (the legacy kss.ksyun.com, Hangzhou).
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

// regionFromHost reads "cn-beijing" out of ks3-cn-beijing.ksyuncs.com or
// ks3-cn-beijing-internal.ksyun.com; "" (the S3 default) otherwise.
func regionFromHost(host string) string {
	label, _, _ := strings.Cut(host, ".")
	region, ok := strings.CutPrefix(label, "ks3-")
	if !ok || !strings.Contains(host, ".ksyun") {
		return ""
	}
	return strings.TrimSuffix(region, "-internal")
}
