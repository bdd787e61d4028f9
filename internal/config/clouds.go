package config

import (
	"regexp"
	"strings"
)

// Checks of the cloud addressing settings (endpoint, region, custom
// domain, credentials chain) that would otherwise only fail at run time.

var (
	// ossRegionHostRE matches OSS endpoints that name their region:
	// oss-<region>[-internal].aliyuncs.com and <region>.oss.aliyuncs.com.
	ossRegionHostRE = regexp.MustCompile(`^(?:[a-z0-9-]+\.)?oss-([a-z0-9-]+?)(?:-internal)?\.aliyuncs\.com$`)
	ossDualHostRE   = regexp.MustCompile(`^([a-z0-9-]+)\.oss\.aliyuncs\.com$`)
	// s3BucketRE is the S3 (and Qiniu S3 API) bucket name rule.
	s3BucketRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
)

// OSSEndpointRegion returns the region an OSS endpoint names, or "" for
// endpoints that name none (custom domains, IP addresses, the global
// oss-accelerate endpoints, private deployments).
func OSSEndpointRegion(endpoint string) string {
	host := strings.ToLower(strings.TrimSuffix(endpointHost(endpoint), "."))
	if m := ossRegionHostRE.FindStringSubmatch(host); m != nil {
		if strings.HasPrefix(m[1], "accelerate") {
			return ""
		}
		return m[1]
	}
	if m := ossDualHostRE.FindStringSubmatch(host); m != nil {
		return m[1]
	}
	return ""
}

// checkClouds applies the addressing and credential checks of both sides.
func (j *Job) checkClouds(c *checker) {
	st := j.srcKind()
	if st == "oss" && j.SrcDomain != "" {
		j.checkOSSAddressing(c, "src", j.SrcDomain, j.SrcRegion, j.SrcUseCname)
	}
	if j.DestType == "oss" && j.DestDomain != "" {
		j.checkOSSAddressing(c, "dest", j.DestDomain, j.DestRegion, j.DestUseCname)
	}
	if j.DestType == "s3" && j.DestDomain == "" && j.DestRegion == "" {
		c.warnf("destRegion", "destRegion is empty and destDomain too, so requests go to AWS signed for us-east-1; set destRegion to the bucket's region (e.g. eu-west-1), or preflight fails for a bucket elsewhere")
	}
	if st == "s3" && j.SrcDomain == "" && j.SrcRegion == "" {
		c.warnf("srcRegion", "srcRegion is empty and srcDomain too, so requests go to AWS signed for us-east-1; set srcRegion to the bucket's region (e.g. eu-west-1), or preflight fails for a bucket elsewhere")
	}
	switch st {
	case "bos":
		j.checkBOSDomain(c)
	case "qiniu":
		if b := j.SrcBucket; b != "" && !strings.Contains(b, "/") && !s3BucketRE.MatchString(b) {
			c.errorf("srcBucket", "srcBucket %s is not a valid bucket name for Qiniu's S3 API (3 to 63 lower-case letters, digits, '-' and '.'): srcBucket must hold the bucket's name as the Kodo console lists it, not a domain", c.q("srcBucket"))
		}
	}
	j.checkTokens(c, st)
}

// checkOSSAddressing checks an OSS endpoint against its region and
// custom-domain settings; side is "src" or "dest".
func (j *Job) checkOSSAddressing(c *checker, side, domain, region string, cname bool) {
	domainKey, regionKey, cnameKey := side+"Domain", side+"Region", side+"UseCname"
	named := OSSEndpointRegion(domain)
	switch {
	case cname && OSSEndpoint(domain):
		c.errorf(cnameKey, "%s=true but %s %s is an OSS endpoint, not a custom domain: set %s to the domain bound to the bucket (e.g. https://files.example.com), or set %s=false",
			cnameKey, domainKey, c.q(domainKey), domainKey, cnameKey)
	case named != "" && region != "" && region != named:
		c.errorf(regionKey, "%s %s contradicts %s %s, which is in region %s (clear %s or write %s)",
			regionKey, c.q(regionKey), domainKey, c.q(domainKey), named, regionKey, named)
	case named == "" && region == "" && side == "dest" && !cname && !OSSEndpoint(domain):
		c.errorf(regionKey, "destType is oss (the default) but destDomain %s is not an OSS endpoint (*.aliyuncs.com) and names no region: "+
			"if this looks like an S3-compatible endpoint, set destType=s3; if it is a domain bound (CNAME) to an OSS bucket, set destUseCname=true and destRegion to the bucket's region (e.g. cn-hangzhou)",
			c.q("destDomain"))
	case named == "" && region == "":
		c.errorf(regionKey, "%s %s names no OSS region (a custom domain, an IP address, oss-accelerate or a private deployment do not), and OSS signature V4 needs one: set %s to the bucket's region, e.g. cn-hangzhou",
			domainKey, c.q(domainKey), regionKey)
	}
	if !cname && named == "" && !OSSEndpoint(domain) && region != "" && !isIPOrLocal(domain) {
		c.warnf(cnameKey, "%s %s is not an OSS endpoint: if it is a custom domain bound to the bucket, set %s=true, or requests go to <bucket>.%s",
			domainKey, c.q(domainKey), cnameKey, endpointHost(domain))
	}
}

func isIPOrLocal(endpoint string) bool {
	h := endpointHost(endpoint)
	return strings.EqualFold(h, "localhost") || validHost(h) == nil && validHostname(h) != nil
}

// checkBOSDomain refuses a pasted bucket domain (mybkt.bj.bcebos.com):
// srcDomain is the region endpoint, the bucket goes in srcBucket.
func (j *Job) checkBOSDomain(c *checker) {
	host := strings.ToLower(endpointHost(j.SrcDomain))
	rest, ok := strings.CutSuffix(host, ".bcebos.com")
	if !ok {
		return
	}
	labels := strings.Split(rest, ".")
	if len(labels) == 2 && labels[0] != "s3" {
		fixed := strings.Replace(j.SrcDomain, host, labels[1]+".bcebos.com", 1)
		c.errorf("srcDomain", "srcDomain %s is a bucket domain: write the region endpoint %s and put the bucket name %s in srcBucket",
			c.q("srcDomain"), fixed, labels[0])
	}
}

// checkTokens: a security token belongs to a temporary key pair.
func (j *Job) checkTokens(c *checker, st string) {
	if j.SrcSecurityToken != "" && (j.SrcAccessKey == "" || j.SrcSecretKey == "") {
		c.errorf("srcSecurityToken", "srcSecurityToken is set but srcAccessKey or srcSecretKey is empty: an STS token goes with the temporary key pair it was issued with (set both, or clear srcSecurityToken)")
	}
	if j.DestSecurityToken != "" && (j.DestAccessKey == "" || j.DestSecretKey == "") {
		c.errorf("destSecurityToken", "destSecurityToken is set but destAccessKey or destSecretKey is empty: an STS token goes with the temporary key pair it was issued with (set both, or clear destSecurityToken)")
	}
	if st == "oss" && j.SrcAccessKey == "" && j.SrcSecretKey == "" && j.SrcSecurityToken == "" {
		c.warnf("srcAccessKey", "srcAccessKey and srcSecretKey are empty, so the source's credentials come from OSS_ACCESS_KEY_ID/OSS_ACCESS_KEY_SECRET (and OSS_SESSION_TOKEN), else the ECS instance's RAM role, else requests are anonymous (public-read buckets only)")
	}
}

// checkAzureDomain accepts what the Azure store understands in srcDomain:
// an endpoint suffix (core.windows.net), the blob service URL (Azurite,
// Azure Stack, private endpoints) or a connection string with
// BlobEndpoint= or EndpointSuffix=. A connection string must not carry
// the account key: that belongs in srcSecretKey.
func (j *Job) checkAzureDomain(c *checker) {
	d := strings.TrimSpace(j.SrcDomain)
	switch {
	case d == "":
	case strings.Contains(d, "="):
		parts := map[string]string{}
		for p := range strings.SplitSeq(d, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			parts[strings.ToLower(k)] = v
		}
		if _, ok := parts["accountkey"]; ok {
			c.errorf("srcDomain", "srcDomain is a connection string holding AccountKey: remove AccountKey=... from srcDomain (it would be shown and logged) and put the key in srcSecretKey")
			return
		}
		if _, ok := parts["sharedaccesssignature"]; ok {
			c.errorf("srcDomain", "srcDomain is a connection string holding a SharedAccessSignature, which is not supported: use the account name and key (srcAccessKey, srcSecretKey)")
			return
		}
		switch ep, suffix := parts["blobendpoint"], parts["endpointsuffix"]; {
		case ep != "":
			if _, err := checkEndpoint(ep); err != nil || !hasScheme(ep) {
				c.errorf("srcDomain", "srcDomain's BlobEndpoint %q must be an http:// or https:// URL", ep)
			}
		case suffix != "":
			if validHostname(suffix) != nil {
				c.errorf("srcDomain", "srcDomain's EndpointSuffix %q must be a domain such as core.windows.net", suffix)
			}
		default:
			c.errorf("srcDomain", "srcDomain looks like a connection string but has neither BlobEndpoint= nor EndpointSuffix= (write e.g. BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1 or EndpointSuffix=core.chinacloudapi.cn)")
		}
		if name := parts["accountname"]; name != "" && j.SrcAccessKey != "" && name != j.SrcAccessKey {
			c.errorf("srcAccessKey", "srcAccessKey %s differs from the AccountName %q in srcDomain's connection string (they must name the same storage account)", c.q("srcAccessKey"), name)
		}
	case hasScheme(d):
		if _, err := checkEndpoint(d); err != nil {
			c.errorf("srcDomain", "srcDomain %s %v", c.q("srcDomain"), err)
		}
	case validHostname(d) != nil:
		c.errorf("srcDomain", "srcDomain %s must be the endpoint suffix for srcType=azure (e.g. core.windows.net), the blob service URL (e.g. https://acct.blob.core.windows.net or http://127.0.0.1:10000/devstoreaccount1) or a connection string with BlobEndpoint= (or empty)", c.q("srcDomain"))
	}
}

// maskConnectionString hides the AccountKey and SharedAccessSignature
// values of an Azure connection string pasted into srcDomain, so the
// effective settings never show them.
func maskConnectionString(v string) string {
	if !strings.Contains(v, "=") {
		return v
	}
	parts := strings.Split(v, ";")
	for i, p := range parts {
		k, _, ok := strings.Cut(p, "=")
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "accountkey", "sharedaccesssignature":
			if ok {
				parts[i] = k + "=****"
			}
		}
	}
	return strings.Join(parts, ";")
}
