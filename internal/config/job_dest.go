package config

import (
	"slices"
	"strings"
)

// checkDest applies the destType-specific rules.
func (j *Job) checkDest(c *checker) {
	if p := j.DestPrefix; strings.HasPrefix(p, "/") || strings.HasPrefix(p, `\`) {
		c.errorf("destPrefix", `destPrefix %s must not start with "/" or "\" (write %s)`, c.q("destPrefix"), strings.TrimLeft(p, `/\`))
	}
	switch j.DestType {
	case "local":
		j.checkLocalDest(c)
	case "oss", "s3":
		j.checkCloudDest(c)
	}
	for _, key := range []string{"destRegion", "srcRegion"} {
		if v := j.value(key); v != "" && !tokenRE.MatchString(v) {
			c.errorf(key, "%s %s must be a region name such as us-east-1 (letters, digits, '-', '_' or '.')", key, c.q(key))
		}
	}
}

func (j *Job) checkLocalDest(c *checker) {
	d := j.DestBucket
	if d == "" || !isAbsPath(d) {
		c.errorf("destBucket", "destBucket %s must be the absolute destination directory when destType=local (e.g. /data/dest)", c.q("destBucket"))
		return
	}
	if j.srcKind() != "local" || !isAbsPath(j.SrcPrefix) {
		return
	}
	root := strings.TrimRight(strings.ReplaceAll(d, `\`, "/"), "/") + "/"
	if strings.HasPrefix(root, j.SrcPrefix) {
		c.errorf("destBucket", "destBucket %s lies inside srcPrefix %s, so copies would be copied again (choose a directory outside the source)", c.q("destBucket"), c.q("srcPrefix"))
	}
}

func (j *Job) checkCloudDest(c *checker) {
	switch b := j.DestBucket; {
	case b == "":
		c.errorf("destBucket", "destBucket is required for destType=%s (set the destination bucket name)", j.DestType)
	case strings.Contains(b, "/"):
		name, rest, _ := strings.Cut(b, "/")
		c.errorf("destBucket", `destBucket %s must be a bucket name without "/" (write %s and put %s/ in destPrefix)`, c.q("destBucket"), name, strings.Trim(rest, "/"))
	}
	if j.DestDomain == "" && j.DestType == "oss" {
		c.errorf("destDomain", "destDomain is required for destType=oss (set the region endpoint, e.g. http://oss-cn-hangzhou.aliyuncs.com)")
	} else if j.DestDomain != "" {
		j.checkEndpointKey(c, "destDomain", j.DestBucket, !j.DestUseCname)
	}
	ak, sk := j.DestAccessKey != "", j.DestSecretKey != ""
	switch {
	case ak && !sk:
		c.errorf("destSecretKey", "destSecretKey is empty but destAccessKey is set (set the secret, or clear both)")
	case sk && !ak:
		c.errorf("destAccessKey", "destAccessKey is empty but destSecretKey is set (set the access key ID, or clear both)")
	case !ak && j.DestType == "oss":
		c.warnf("destAccessKey", "destAccessKey and destSecretKey are empty, so the destination's credentials come from OSS_ACCESS_KEY_ID/OSS_ACCESS_KEY_SECRET (and OSS_SESSION_TOKEN), else the ECS instance's RAM role, else requests are anonymous and fail unless the bucket allows public writes")
	}
	j.checkStorageClass(c)
}

func (j *Job) checkStorageClass(c *checker) {
	sc := j.DestStorageClass
	switch {
	case sc == "":
	case j.DestType == "oss" && !slices.Contains(ossClasses, sc):
		msg := "destStorageClass %s is not an OSS storage class (use one of: " + strings.Join(ossClasses, ", ") + ")"
		if s := suggest(sc, ossClasses); s != "" {
			msg = "destStorageClass %s is not an OSS storage class (did you mean \"" + s + "\"?)"
		}
		c.errorf("destStorageClass", msg, c.q("destStorageClass"))
	case j.DestType == "s3" && !tokenRE.MatchString(sc):
		c.errorf("destStorageClass", "destStorageClass %s must be a single word such as STANDARD_IA", c.q("destStorageClass"))
	}
}

// checkUpload applies the multipart rules.
func (j *Job) checkUpload(c *checker) {
	if j.MultipartUploadThreshold <= MiB {
		c.errorf("multipartUploadThreshold", "multipartUploadThreshold %s must be larger than 1m (e.g. 150m)", c.q("multipartUploadThreshold"))
	}
	part := j.MultipartUploadPartSize
	switch {
	case part < minPartSize:
		c.warnf("multipartUploadPartSize", "multipartUploadPartSize %s is under 100k, so 50m is used instead (write at least 100k)", c.q("multipartUploadPartSize"))
		part = 50 * MiB
	case part > maxPartSize:
		c.errorf("multipartUploadPartSize", "multipartUploadPartSize %s is larger than 5g (write at most 5g, e.g. 50m)", c.q("multipartUploadPartSize"))
	}
	if j.MultipartUploadThreshold > MiB && j.MultipartUploadThreshold < part {
		c.warnf("multipartUploadThreshold", "multipartUploadThreshold %s is smaller than the part size %s, so files in between are uploaded as a single part (raise the threshold or lower multipartUploadPartSize)",
			c.q("multipartUploadThreshold"), FormatSize(part))
	}
}

// checkExpress rejects Express Connect tunnels and checks the other keys.
func (j *Job) checkExpress(c *checker) {
	if j.UseExpressTunnel {
		c.errorf("isUseExpressTunnel", "isUseExpressTunnel=true: Express Connect tunnels are not supported by this implementation (set isUseExpressTunnel=false and reach OSS through a normal endpoint in destDomain, e.g. an -internal endpoint over your leased line or VPC)")
	}
	if h := j.ExpressTunnelProxyHost; h != "" {
		if _, err := checkEndpoint(h); err != nil || !hasScheme(h) {
			c.errorf("expressTunnelProxyHost", "expressTunnelProxyHost %s must be a URL starting with http:// or https://", c.q("expressTunnelProxyHost"))
		}
	}
	if t := j.ExpressTunnelProxyType; t != "" && !slices.Contains(tunnelTypes, t) {
		c.errorf("expressTunnelProxyType", "expressTunnelProxyType %s is not allowed (use one of: %s)", c.q("expressTunnelProxyType"), strings.Join(tunnelTypes, ", "))
	}
}

// checkFilters validates the include/exclude patterns and size limits.
func (j *Job) checkFilters(c *checker) {
	for _, list := range []struct {
		key  string
		pats []string
	}{{"includePatterns", j.IncludePatterns}, {"excludePatterns", j.ExcludePatterns}} {
		for _, p := range list.pats {
			if err := CheckPattern(p); err != nil {
				c.errorf(list.key, "%s entry %q is not a valid pattern: %v (see path.Match syntax; escape special characters with \\)", list.key, p, err)
			}
		}
	}
	if j.MinFileSize < 0 || j.MaxFileSize < 0 {
		c.errorf("minFileSize", "minFileSize and maxFileSize must not be negative")
	}
	if j.MaxFileSize > 0 && j.MinFileSize > j.MaxFileSize {
		c.errorf("minFileSize", "minFileSize %s is larger than maxFileSize %s, so no file would be copied (lower minFileSize or raise maxFileSize)", c.q("minFileSize"), c.q("maxFileSize"))
	}
}
