package config

import (
	"reflect"
	"slices"
	"strings"
)

// checkSource applies the srcType-specific rules.
func (j *Job) checkSource(c *checker) {
	st := j.srcKind()
	if !slices.Contains(SourceTypes, st) {
		return
	}
	switch st {
	case "local":
		j.checkLocalPrefix(c)
	case "http":
		j.checkHTTPList(c)
	case "cos":
		if j.AppID <= 0 {
			c.errorf("appId", "appId is required for srcType=cos (set your Tencent Cloud AppID, a positive number)")
		}
		if p := j.SrcPrefix; p != "" && (!strings.HasPrefix(p, "/") || !strings.HasSuffix(p, "/")) {
			c.errorf("srcPrefix", "srcPrefix %s must be empty or start and end with \"/\" for srcType=cos (write /%s/)", c.q("srcPrefix"), strings.Trim(p, "/"))
		}
	}
	if st != "local" && st != "cos" && strings.HasPrefix(j.SrcPrefix, "/") {
		c.errorf("srcPrefix", "srcPrefix %s must not start with \"/\" for srcType=%s (write %s)", c.q("srcPrefix"), st, strings.TrimLeft(j.SrcPrefix, "/"))
	}
	if st == "local" || st == "http" {
		for _, key := range []string{"srcDomain", "srcBucket"} {
			if j.value(key) != "" {
				c.warnf(key, "%s is not used by srcType=%s and is ignored (leave it empty)", key, st)
			}
		}
		return
	}
	j.checkSrcAccount(c, st)
	j.checkSrcDomain(c, st)
	if st == "youpai" && j.DownloadFromCDN {
		j.checkCDN(c)
	}
}

func (j *Job) value(key string) string {
	r := jobRegistry()
	k, _ := r.lookup(key)
	return formatValue(r.fieldOf(reflect.ValueOf(j), k), k)
}

// checkLocalPrefix applies ossimport's rules for a local source directory.
func (j *Job) checkLocalPrefix(c *checker) {
	p := j.SrcPrefix
	fix := fixLocalPrefix(p)
	switch {
	case p == "":
		c.errorf("srcPrefix", `srcPrefix is empty; srcType=local needs the absolute source directory ending with "/" (e.g. /data/src/)`)
	case strings.Contains(p, `\`):
		c.errorf("srcPrefix", `srcPrefix %s must use "/" as the separator (write %s)`, c.q("srcPrefix"), fix)
	case !isAbsPath(p):
		c.errorf("srcPrefix", `srcPrefix %s must be an absolute path (write %s)`, c.q("srcPrefix"), fix)
	case strings.Contains(p, "//"):
		c.errorf("srcPrefix", `srcPrefix %s must not contain "//" (write %s)`, c.q("srcPrefix"), fix)
	case !strings.HasSuffix(p, "/"):
		c.errorf("srcPrefix", `srcPrefix %s must end with "/" (write %s)`, c.q("srcPrefix"), fix)
	}
}

// fixLocalPrefix turns p into the nearest valid local srcPrefix.
func fixLocalPrefix(p string) string {
	p = strings.ReplaceAll(p, `\`, "/")
	for strings.Contains(p, "//") {
		p = strings.ReplaceAll(p, "//", "/")
	}
	if !isAbsPath(p) {
		p = "/" + strings.TrimPrefix(p, "/")
	}
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

// isAbsPath accepts "/..." and Windows drive paths ("c:/...", "c:\...").
func isAbsPath(p string) bool {
	return strings.HasPrefix(p, "/") || winAbsRE.MatchString(p)
}

func (j *Job) checkHTTPList(c *checker) {
	switch p := j.HTTPListFilePath; {
	case p == "":
		c.errorf("httpListFilePath", "httpListFilePath is required for srcType=http (set the absolute path of the URL list file)")
	case !isAbsPath(p):
		c.errorf("httpListFilePath", "httpListFilePath %s must be an absolute path (write /%s or c:/%s)", c.q("httpListFilePath"), p, p)
	}
	if j.HTTPPrefixColumn == j.RelativePathColumn {
		c.errorf("relativePathColumn", "relativePathColumn %s must differ from httpPrefixColumn (the defaults are 1 and 2)", c.q("relativePathColumn"))
	}
}

// checkSrcAccount checks bucket and credentials of cloud sources.
func (j *Job) checkSrcAccount(c *checker, st string) {
	if j.SrcBucket == "" {
		what := "the source bucket name"
		if st == "azure" {
			what = "the container name"
		}
		c.errorf("srcBucket", "srcBucket is required for srcType=%s (set %s)", st, what)
	} else if strings.Contains(j.SrcBucket, "/") {
		b, rest, _ := strings.Cut(j.SrcBucket, "/")
		c.errorf("srcBucket", `srcBucket %s must be a bucket name without "/" (write %s and put %s/ in srcPrefix)`, c.q("srcBucket"), b, strings.Trim(rest, "/"))
	}
	ak, sk := j.SrcAccessKey != "", j.SrcSecretKey != ""
	if slices.Contains(credentialed, st) {
		if !ak {
			c.errorf("srcAccessKey", "srcAccessKey is required for srcType=%s (%s)", st, accountHint(st))
		}
		if !sk {
			c.errorf("srcSecretKey", "srcSecretKey is required for srcType=%s (set the secret that belongs to srcAccessKey)", st)
		}
	} else if ak != sk {
		c.errorf("srcSecretKey", "srcAccessKey and srcSecretKey must be set together (or both left empty to use the provider's default credential chain)")
	}
}

func accountHint(st string) string {
	switch st {
	case "youpai":
		return "set the UPYUN operator name"
	case "azure":
		return "set the storage account name"
	}
	return "set the source account's access key ID"
}

// checkSrcDomain checks srcDomain for cloud sources.
func (j *Job) checkSrcDomain(c *checker, st string) {
	d := j.SrcDomain
	switch {
	case st == "cos":
		if d != "" && !tokenRE.MatchString(d) {
			c.errorf("srcDomain", "srcDomain %s must be the COS region for srcType=cos, e.g. ap-guangzhou (or empty)", c.q("srcDomain"))
		}
	case st == "azure":
		j.checkAzureDomain(c)
	case d == "" && st != "s3":
		c.errorf("srcDomain", "srcDomain is required for srcType=%s (set the source endpoint, e.g. %s)", st, exampleEndpoint(st))
	case d != "":
		j.checkEndpointKey(c, "srcDomain", j.SrcBucket, slices.Contains([]string{"oss", "s3", "bos", "ks3"}, st) && !j.SrcUseCname)
	}
}

func exampleEndpoint(st string) string {
	switch st {
	case "bos":
		return "http://bj.bcebos.com"
	case "ks3":
		return "http://ks3-cn-beijing.ksyun.com"
	case "youpai":
		return "http://v0.api.upyun.com"
	case "qiniu":
		return "http://your-bucket-domain.example.com"
	}
	return "http://oss-cn-hangzhou.aliyuncs.com"
}

// checkEndpointKey validates an endpoint key; with bucketHost it also
// rejects an endpoint that starts with the bucket name.
func (j *Job) checkEndpointKey(c *checker, key, bucket string, bucketHost bool) {
	d := j.value(key)
	warn, err := checkEndpoint(d)
	if err != nil {
		c.errorf(key, "%s %s %v", key, c.q(key), err)
		return
	}
	if warn != "" {
		c.warnf(key, "%s %s %s", key, c.q(key), warn)
	}
	host := endpointHost(d)
	if bucketHost && bucket != "" && strings.HasPrefix(strings.ToLower(host), strings.ToLower(bucket)+".") {
		fixed := strings.Replace(d, host, host[len(bucket)+1:], 1)
		c.errorf(key, "%s %s must not contain the bucket name (write %s)", key, c.q(key), fixed)
	}
}

func (j *Job) checkCDN(c *checker) {
	if j.CDNDomain == "" {
		c.errorf("cdnDomain", "cdnDomain is required when isDownloadFromCdn=true (set the UPYUN CDN host, or set isDownloadFromCdn=false)")
		return
	}
	j.checkEndpointKey(c, "cdnDomain", "", false)
}
