package config

import (
	"strings"
	"testing"
)

// TestOSSEndpointWarning: destType=oss (the default) with an endpoint
// that is not OSS warns that destType may need to be s3; OSS endpoints,
// destType=s3 and an OSS bucket's own domain with destRegion set do not.
func TestOSSEndpointWarning(t *testing.T) {
	tests := []struct {
		name   string
		domain string
		extra  []string
		warn   bool
	}{
		{"oss endpoint", "http://oss-cn-hangzhou.aliyuncs.com", nil, false},
		{"oss internal bare host", "oss-cn-beijing-internal.aliyuncs.com", nil, false},
		{"oss accelerate", "https://oss-accelerate.aliyuncs.com", nil, false},
		{"minio on localhost", "http://127.0.0.1:9000", nil, true},
		{"aws", "https://s3.eu-west-1.amazonaws.com", nil, true},
		{"default destType, s3 endpoint", "https://s3.eu-west-1.amazonaws.com", []string{"destType=oss"}, true},
		{"destType=s3", "http://127.0.0.1:9000", []string{"destType=s3"}, false},
		{"oss cname with region", "https://static.example.com", []string{"destRegion=cn-hangzhou"}, false},
		{"lookalike", "http://aliyuncs.com.example.net", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := ParseJob("j.cfg", []byte(jobText(map[string]string{"destDomain": tc.domain}, tc.extra...)))
			var got []string
			for _, d := range diags.Warnings() {
				if strings.Contains(d.String(), "set destType=s3") {
					got = append(got, d.String())
				}
			}
			if diags.HasErrors() {
				t.Fatalf("errors: %v", diagLines(diags))
			}
			if (len(got) == 1) != tc.warn || len(got) > 1 {
				t.Fatalf("destType warnings %q, want one: %v", got, tc.warn)
			}
			if tc.warn && !strings.Contains(got[0], "this looks like an S3-compatible endpoint") {
				t.Fatalf("warning %q does not say what to do", got[0])
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
