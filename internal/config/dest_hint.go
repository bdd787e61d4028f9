package config

import "strings"

// OSSEndpoint reports whether an endpoint's host is an OSS endpoint
// (oss-<region>[-internal].aliyuncs.com, or any other *.aliyuncs.com
// host such as an accelerate endpoint).
func OSSEndpoint(endpoint string) bool {
	host := strings.ToLower(strings.TrimSuffix(endpointHost(endpoint), "."))
	return strings.HasSuffix(host, ".aliyuncs.com")
}

// checkOSSEndpoint warns when destType=oss (the default, easy to miss)
// while destDomain is no OSS endpoint: an S3-compatible endpoint would
// otherwise fail later, asking for a region. A bucket's own domain (a
// CNAME of an OSS bucket) works with destRegion set, so the warning is
// left out then.
func (j *Job) checkOSSEndpoint(c *checker) {
	if j.DestType != "oss" || j.DestDomain == "" || OSSEndpoint(j.DestDomain) || j.DestRegion != "" {
		return
	}
	c.warnf("destType", "destType is oss (the default) but destDomain %s is not an OSS endpoint (*.aliyuncs.com): "+
		"this looks like an S3-compatible endpoint, set destType=s3; if it is a domain mapped (CNAME) to an OSS bucket, set destRegion to the bucket's region",
		c.q("destDomain"))
}
