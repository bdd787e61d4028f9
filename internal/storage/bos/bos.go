// Package bos opens Baidu Object Storage buckets (srcType=bos) through
// BOS's S3-compatible API, delegating everything to package s3.
//
// Endpoint derivation. ossimport's srcDomain for BOS is the native API
// endpoint, http://<region>.bcebos.com (bj, gz, su, bd, fwh, hkg, ...).
// BOS serves the S3 API on https://s3.<region>.bcebos.com, so:
//
//   - a <region>.bcebos.com srcDomain becomes https://s3.<region>.bcebos.com,
//     the region being the host's first label;
//   - an s3.<region>.bcebos.com srcDomain, an IP address, localhost, or any
//     other host is used as given;
//   - an empty srcDomain uses srcRegion: https://s3.<srcRegion>.bcebos.com.
//
// Requests are signed for srcRegion, else the derived region.
package bos

import (
	"fmt"
	"strings"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/s3"
)

func init() {
	storage.Register("bos", s3.Opener(config))
}

// config derives the S3 configuration from an ossimport-style spec.
func config(spec storage.Spec) (s3.Config, error) {
	cfg := s3.ConfigFromSpec(spec)
	cfg.Name = "bos"
	host := s3.HostOf(spec.Endpoint)
	region := ""
	switch {
	case spec.Endpoint == "" && spec.Region == "":
		return s3.Config{}, fmt.Errorf("open bos store: srcDomain is empty: set it to the bucket's endpoint, e.g. http://bj.bcebos.com")
	case spec.Endpoint == "":
		region = spec.Region
		cfg.Endpoint = "https://s3." + region + ".bcebos.com"
	case strings.HasPrefix(host, "s3.") && strings.HasSuffix(host, ".bcebos.com"):
		region = strings.TrimSuffix(strings.TrimPrefix(host, "s3."), ".bcebos.com")
	case strings.HasSuffix(host, ".bcebos.com"):
		region, _, _ = strings.Cut(host, ".")
		cfg.Endpoint = "https://s3." + region + ".bcebos.com"
	}
	if cfg.Region == "" {
		cfg.Region = region
	}
	return cfg, nil
}
