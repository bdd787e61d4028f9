package job

import (
	"strings"
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
)

// TestDestTypeHint: destType=oss with an endpoint that is not OSS fails
// saying destType=s3 is likely meant, not only asking for a region.
func TestDestTypeHint(t *testing.T) {
	// check refuses such a job file (config's checkOSSAddressing); a Spec
	// built otherwise still gets the hint when the store refuses it.
	spec := &Spec{Name: "hint_job", Source: storage.Spec{Type: "local", Bucket: t.TempDir() + "/"},
		Dest: storage.Spec{Type: "oss", Endpoint: "http://127.0.0.1:9/", Bucket: "bkt", AccessKey: "AKIAEXAMPLE", SecretKey: "example"}}
	_, _, err := Open(t.Context(), spec)
	if err == nil || !strings.Contains(err.Error(), "set destType=s3") {
		t.Fatalf("open of destType=oss at an S3-compatible endpoint: %v", err)
	}
	for _, tc := range []struct {
		d    storage.Spec
		hint bool
	}{
		{storage.Spec{Type: "oss", Endpoint: "http://127.0.0.1:9000"}, true},
		{storage.Spec{Type: "oss", Endpoint: "https://oss-cn-hangzhou.aliyuncs.com"}, false},
		{storage.Spec{Type: "oss", Endpoint: "https://static.example.com", Region: "cn-hangzhou"}, false},
		{storage.Spec{Type: "s3", Endpoint: "http://127.0.0.1:9000"}, false},
	} {
		if _, ok := destTypeHint(tc.d); ok != tc.hint {
			t.Errorf("destTypeHint(%+v) = %v, want %v", tc.d, ok, tc.hint)
		}
	}
}
