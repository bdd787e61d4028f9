package config

import (
	"strings"
	"testing"
)

// TestTokensMasked: the STS tokens are masked in the job file copy and
// in the effective settings, and an account key pasted into an Azure
// srcDomain never shows.
func TestTokensMasked(t *testing.T) {
	in := jobText(nil, "srcType=oss", "srcSecurityToken=STSSRCTOKEN", "destSecurityToken=STSDESTTOKEN")
	out := string(MaskJobFile([]byte(in)))
	for _, secret := range []string{"STSSRCTOKEN", "STSDESTTOKEN"} {
		if strings.Contains(out, secret) {
			t.Errorf("masked job file holds %s:\n%s", secret, out)
		}
	}
	j, _ := ParseJob("j.cfg", []byte(in))
	if j.SrcSecurityToken != "STSSRCTOKEN" || j.DestSecurityToken != "STSDESTTOKEN" {
		t.Fatalf("tokens not read: %q %q", j.SrcSecurityToken, j.DestSecurityToken)
	}
	az, diags := ParseJob("j.cfg", []byte(jobText(map[string]string{"srcPrefix": ""}, "srcType=azure", "srcBucket=c",
		"srcAccessKey=acct", "srcSecretKey=s", "srcDomain=AccountName=acct;AccountKey=QUNDT1VOVEtFWQ==;EndpointSuffix=core.windows.net")))
	var shown strings.Builder
	for _, s := range append(j.Effective(), az.Effective()...) {
		shown.WriteString(s.Key + "=" + s.Value + "\n")
	}
	for _, d := range diags {
		shown.WriteString(d.String() + "\n")
	}
	for _, secret := range []string{"STSSRCTOKEN", "STSDESTTOKEN", "QUNDT1VOVEtFWQ"} {
		if strings.Contains(shown.String(), secret) {
			t.Errorf("effective settings or diagnostics show %s:\n%s", secret, shown.String())
		}
	}
	if !strings.Contains(shown.String(), "AccountKey=****") {
		t.Errorf("the pasted connection string is not shown masked:\n%s", shown.String())
	}
}

func TestOSSEndpointRegionOf(t *testing.T) {
	for in, want := range map[string]string{
		"http://oss-cn-hangzhou.aliyuncs.com":          "cn-hangzhou",
		"oss-cn-beijing-internal.aliyuncs.com":         "cn-beijing",
		"https://cn-shanghai.oss.aliyuncs.com":         "cn-shanghai",
		"https://oss-accelerate.aliyuncs.com":          "",
		"https://oss-accelerate-overseas.aliyuncs.com": "",
		"https://files.example.com":                    "",
		"http://10.0.0.1:8080":                         "",
	} {
		if got := OSSEndpointRegion(in); got != want {
			t.Errorf("OSSEndpointRegion(%q) = %q, want %q", in, got, want)
		}
	}
}
