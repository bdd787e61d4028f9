// Package qiniu opens Qiniu Kodo buckets (srcType=qiniu) through Kodo's
// S3-compatible API, delegating everything to package s3.
//
// Endpoint derivation. ossimport's srcDomain for Qiniu is the bucket's
// download domain (e.g. http://xxx.bkt.clouddn.com), which cannot serve API
// requests, so:
//
//   - srcDomain containing "qiniucs.com" (an S3 endpoint such as
//     https://s3.cn-east-1.qiniucs.com), or naming an IP address or
//     localhost, is used as given;
//   - otherwise srcRegion (cn-east-1, cn-east-2, cn-north-1, cn-south-1,
//     us-north-1, ap-southeast-1, ...) gives https://s3.<srcRegion>.qiniucs.com;
//   - with neither, opening fails and asks for srcRegion.
//
// Requests are signed for srcRegion, or the region in an s3.<region>.qiniucs.com
// host. getObjectMetaMode (stat or head) chose between two native Qiniu APIs
// and means nothing over the S3 API; it is accepted and ignored.
//
// Kodo's ETags are Qiniu's own content hash (qetag), not MD5, so the store
// does not claim ETagIsMD5.
package qiniu

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/s3"
)

func init() {
	storage.Register("qiniu", s3.Opener(config))
}

// regionPattern matches Qiniu region ids such as cn-east-1.
var regionPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// config derives the S3 configuration from an ossimport-style spec.
func config(spec storage.Spec) (s3.Config, error) {
	cfg := s3.ConfigFromSpec(spec)
	cfg.Name = "qiniu"
	cfg.ETagNotMD5 = true
	host := s3.HostOf(spec.Endpoint)
	switch {
	case strings.Contains(host, "qiniucs.com") || s3.IsLocalEndpoint(spec.Endpoint):
		if cfg.Region == "" {
			cfg.Region = regionFromHost(host)
		}
	case spec.Region != "":
		if !regionPattern.MatchString(spec.Region) {
			return s3.Config{}, fmt.Errorf("open qiniu store: srcRegion %q is not a Qiniu region id such as cn-east-1", spec.Region)
		}
		cfg.Endpoint = "https://s3." + spec.Region + ".qiniucs.com"
	default:
		return s3.Config{}, fmt.Errorf("open qiniu store: srcDomain %q is not a Qiniu S3 endpoint (a bucket's download domain cannot serve API requests): "+
			"set srcRegion to the bucket's region id (e.g. cn-east-1), or srcDomain to https://s3.<region>.qiniucs.com", spec.Endpoint)
	}
	return cfg, nil
}

// regionFromHost reads the region out of s3.<region>.qiniucs.com or
// s3-<region>.qiniucs.com; "" when the host has none.
func regionFromHost(host string) string {
	rest, ok := strings.CutSuffix(host, ".qiniucs.com")
	if !ok {
		return ""
	}
	if r, ok := strings.CutPrefix(rest, "s3."); ok && regionPattern.MatchString(r) {
		return r
	}
	if r, ok := strings.CutPrefix(rest, "s3-"); ok && regionPattern.MatchString(r) {
		return r
	}
	return ""
}
