package config

import (
	"strings"
	"testing"
)

// TestOSSEndpointRegion: destType=oss (the default) with an endpoint
// that names no OSS region is an error at check time (run needs the
// region for signature V4), saying destType=s3 may be meant, or the
// CNAME keys; OSS endpoints, destType=s3 and a bound domain with its
// region set are fine.
func TestOSSEndpointRegion(t *testing.T) {
	tests := []struct {
		name   string
		domain string
		extra  []string
		want   string // "" for no diagnostic about the endpoint
	}{
		{"oss endpoint", "http://oss-cn-hangzhou.aliyuncs.com", nil, ""},
		{"oss internal bare host", "oss-cn-beijing-internal.aliyuncs.com", nil, ""},
		{"oss dual stack", "https://cn-shanghai.oss.aliyuncs.com", nil, ""},
		{"oss accelerate", "https://oss-accelerate.aliyuncs.com", nil, "set destRegion to the bucket's region"},
		{"oss accelerate with region", "https://oss-accelerate.aliyuncs.com", []string{"destRegion=cn-hangzhou"}, ""},
		{"minio on localhost", "http://127.0.0.1:9000", nil, "set destType=s3"},
		{"aws", "https://s3.eu-west-1.amazonaws.com", nil, "set destType=s3"},
		{"default destType, s3 endpoint", "https://s3.eu-west-1.amazonaws.com", []string{"destType=oss"}, "set destType=s3"},
		{"destType=s3", "http://127.0.0.1:9000", []string{"destType=s3"}, ""},
		{"oss cname with region", "https://static.example.com", []string{"destRegion=cn-hangzhou", "destUseCname=true"}, ""},
		{"cname without region", "https://static.example.com", []string{"destUseCname=true"}, "set destRegion"},
		{"cname that is an oss endpoint", "http://oss-cn-hangzhou.aliyuncs.com", []string{"destUseCname=true"}, "is an OSS endpoint, not a custom domain"},
		{"domain with region, no cname", "https://static.example.com", []string{"destRegion=cn-hangzhou"}, "set destUseCname=true"},
		{"region contradicts endpoint", "http://oss-cn-hangzhou.aliyuncs.com", []string{"destRegion=cn-beijing"}, "write cn-hangzhou"},
		{"lookalike", "http://aliyuncs.com.example.net", nil, "set destType=s3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := ParseJob("j.cfg", []byte(jobText(map[string]string{"destDomain": tc.domain}, tc.extra...)))
			lines := diagLines(diags)
			if tc.want == "" {
				if len(diags) != 0 {
					t.Fatalf("diagnostics %q, want none", lines)
				}
				return
			}
			if len(diags) != 1 || !strings.Contains(lines[0], tc.want) {
				t.Fatalf("diagnostics %q, want one saying %q", lines, tc.want)
			}
		})
	}
}

// TestSourceAddressing: the source-side checks of item 7: an OSS source
// needs a region only when its endpoint names none (srcRegion is used,
// not ignored), BOS refuses a pasted bucket domain, Azure takes URLs and
// connection strings but never an account key in srcDomain, Qiniu's
// srcBucket is the S3-side bucket name, and a token needs its key pair.
func TestSourceAddressing(t *testing.T) {
	src := func(kv ...string) string {
		return jobText(map[string]string{"srcPrefix": ""}, kv...)
	}
	tests := []struct {
		name, job, want string // want "" for no diagnostic
	}{
		{"oss endpoint", src("srcType=oss", "srcDomain=http://oss-cn-hangzhou.aliyuncs.com", "srcBucket=b-1", "srcAccessKey=a", "srcSecretKey=s"), ""},
		{"oss ip without region", src("srcType=oss", "srcDomain=http://10.0.0.1", "srcBucket=b-1", "srcAccessKey=a", "srcSecretKey=s"), "set srcRegion"},
		{"oss ip with region", src("srcType=oss", "srcDomain=http://10.0.0.1", "srcRegion=cn-hangzhou", "srcBucket=b-1", "srcAccessKey=a", "srcSecretKey=s"), ""},
		{"oss default chain", src("srcType=oss", "srcDomain=http://oss-cn-hangzhou.aliyuncs.com", "srcBucket=b-1"), "OSS_ACCESS_KEY_ID"},
		{"oss token without keys", src("srcType=oss", "srcDomain=http://oss-cn-hangzhou.aliyuncs.com", "srcBucket=b-1", "srcSecurityToken=t"), "srcSecurityToken is set"},
		{"bos bucket domain", src("srcType=bos", "srcDomain=http://mybkt.bj.bcebos.com", "srcBucket=other", "srcAccessKey=a", "srcSecretKey=s"), "write the region endpoint http://bj.bcebos.com and put the bucket name mybkt in srcBucket"},
		{"bos region endpoint", src("srcType=bos", "srcDomain=http://bj.bcebos.com", "srcBucket=mybkt", "srcAccessKey=a", "srcSecretKey=s"), ""},
		{"azure suffix", src("srcType=azure", "srcDomain=core.chinacloudapi.cn", "srcBucket=c", "srcAccessKey=acct", "srcSecretKey=s"), ""},
		{"azure url", src("srcType=azure", "srcDomain=http://127.0.0.1:10000/devstoreaccount1", "srcBucket=c", "srcAccessKey=acct", "srcSecretKey=s"), ""},
		{"azure blob endpoint", src("srcType=azure", "srcDomain=DefaultEndpointsProtocol=http;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;", "srcBucket=c", "srcAccessKey=acct", "srcSecretKey=s"), ""},
		{"azure account key", src("srcType=azure", "srcDomain=AccountName=acct;AccountKey=c2VjcmV0;EndpointSuffix=core.windows.net", "srcBucket=c", "srcAccessKey=acct", "srcSecretKey=s"), "remove AccountKey"},
		{"azure other account", src("srcType=azure", "srcDomain=AccountName=other;EndpointSuffix=core.windows.net", "srcBucket=c", "srcAccessKey=acct", "srcSecretKey=s"), "must name the same storage account"},
		{"qiniu domain as bucket", src("srcType=qiniu", "srcDomain=http://cdn.example.com", "srcRegion=cn-east-1", "srcBucket=cdn_example", "srcAccessKey=a", "srcSecretKey=s"), "not a domain"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := ParseJob("j.cfg", []byte(tc.job))
			lines := diagLines(diags)
			if tc.want == "" {
				if len(diags) != 0 {
					t.Fatalf("diagnostics %q, want none", lines)
				}
				return
			}
			if len(diags) != 1 || !strings.Contains(lines[0], tc.want) {
				t.Fatalf("diagnostics %q, want one saying %q", lines, tc.want)
			}
			if strings.Contains(strings.Join(lines, "\n"), "c2VjcmV0") {
				t.Fatalf("a diagnostic shows the account key: %q", lines)
			}
		})
	}
}

// TestTemplatesStartWithTypes: the job templates set srcType and
// destType before every other key.
func TestTemplatesStartWithTypes(t *testing.T) {
	for _, standalone := range []bool{true, false} {
		var keys []string
		for line := range strings.SplitSeq(string(JobTemplate(standalone)), "\n") {
			if k, _, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
				keys = append(keys, k)
			}
		}
		if len(keys) < 3 || keys[0] != "srcType" || keys[1] != "destType" {
			t.Errorf("standalone=%v: the template's keys start %q, want srcType, destType", standalone, keys[:min(len(keys), 3)])
		}
	}
}
