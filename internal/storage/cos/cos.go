// Package cos opens Tencent Cloud COS buckets (srcType=cos) through COS's
// S3-compatible API, delegating everything to package s3.
//
// Bucket. COS names buckets "<name>-<AppID>": the bucket used is
// "<srcBucket>-<appId>", unless srcBucket already ends with "-<appId>" or
// appId is empty or 0.
//
// Endpoint derivation. ossimport's srcDomain for COS is a region, not a URL:
//
//   - a COS V4 short region (gz, sh, tj, bj, cd, cq, hk, sgp, ca, ger) is
//     mapped to the current region id (ap-guangzhou, ap-shanghai,
//     ap-beijing-1, ap-beijing, ap-chengdu, ap-chongqing, ap-hongkong,
//     ap-singapore, na-toronto, eu-frankfurt);
//   - a region id (ap-guangzhou) gives https://cos.<region>.myqcloud.com;
//   - a URL or host name (https://cos.ap-guangzhou.myqcloud.com), an IP
//     address or localhost is used as given;
//   - an empty srcDomain (COS V3 jobs) falls back to srcRegion.
//
// Requests are signed for srcRegion, else the derived region id.
//
// Keys. ossimport writes COS prefixes with a leading "/" (srcPrefix=/docs/).
// The store strips one leading "/" from every key and prefix it is given, so
// "/docs/a.txt" names the object docs/a.txt, and a listing under a prefix
// starting with "/" returns keys with the "/" put back, so they always start
// with the prefix asked for.
package cos

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/s3"
)

func init() {
	storage.Register("cos", s3.Opener(config))
}

// shortRegions maps the region names of the COS V4 API, which ossimport's
// srcDomain uses, to current COS region ids.
var shortRegions = map[string]string{
	"gz":  "ap-guangzhou",
	"sh":  "ap-shanghai",
	"tj":  "ap-beijing-1",
	"bj":  "ap-beijing",
	"cd":  "ap-chengdu",
	"cq":  "ap-chongqing",
	"hk":  "ap-hongkong",
	"sgp": "ap-singapore",
	"ca":  "na-toronto",
	"ger": "eu-frankfurt",
}

// regionPattern matches COS region ids such as ap-guangzhou.
var regionPattern = regexp.MustCompile(`^[a-z]+(-[a-z0-9]+)+$`)

// config derives the S3 configuration from an ossimport-style spec.
func config(spec storage.Spec) (s3.Config, error) {
	cfg := s3.ConfigFromSpec(spec)
	cfg.Name = "cos"
	cfg.StripLeadingSlash = true
	if app := strings.TrimSpace(spec.AppID); app != "" && app != "0" && !strings.HasSuffix(cfg.Bucket, "-"+app) {
		cfg.Bucket += "-" + app
	}
	domain := strings.TrimSpace(spec.Endpoint)
	if domain == "" {
		domain = spec.Region
	}
	switch {
	case domain == "":
		return s3.Config{}, fmt.Errorf("open cos store: srcDomain is empty: set it to the bucket's region, e.g. ap-guangzhou")
	case s3.IsLocalEndpoint(domain) || strings.ContainsAny(domain, ".:/"):
		if cfg.Region == "" {
			cfg.Region = regionFromHost(s3.HostOf(domain))
		}
		return cfg, nil
	}
	region, err := regionID(domain)
	if err != nil {
		return s3.Config{}, err
	}
	cfg.Endpoint = "https://cos." + region + ".myqcloud.com"
	if cfg.Region == "" || cfg.Region == domain {
		cfg.Region = region
	}
	return cfg, nil
}

// regionID turns a short or full region name into a COS region id.
func regionID(name string) (string, error) {
	name = strings.ToLower(name)
	if id, ok := shortRegions[name]; ok {
		return id, nil
	}
	if regionPattern.MatchString(name) {
		return name, nil
	}
	short := make([]string, 0, len(shortRegions))
	for k := range shortRegions {
		short = append(short, k)
	}
	sort.Strings(short)
	return "", fmt.Errorf("open cos store: srcDomain %q is not a COS region: use a region id such as ap-guangzhou, one of %s, or the endpoint URL",
		name, strings.Join(short, ", "))
}

// regionFromHost reads the region out of [bucket.]cos.<region>.myqcloud.com;
// "" (the S3 default) for other hosts.
func regionFromHost(host string) string {
	rest, ok := strings.CutSuffix(host, ".myqcloud.com")
	if !ok {
		return ""
	}
	if i := strings.LastIndex(rest, "cos."); i >= 0 && (i == 0 || rest[i-1] == '.') {
		return rest[i+len("cos."):]
	}
	return ""
}
