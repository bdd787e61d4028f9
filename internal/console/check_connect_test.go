package console

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ossimport/ossimport/internal/testenv"
)

// TestCheckConnect: check --connect finds a missing destination bucket
// on a real S3 server (versitygw), which the offline check cannot.
func TestCheckConnect(t *testing.T) {
	srv := testenv.VersityGW(t)
	bucket := srv.CreateBucket(t, "")
	dir := t.TempDir()
	t.Setenv("OSS_IMPORT_HOME", dir)
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(bucket string) string {
		path := filepath.Join(dir, bucket+".cfg")
		text := fmt.Sprintf("jobName=connect_test\nsrcType=local\nsrcPrefix=%s/\ndestType=s3\ndestDomain=%s\ndestRegion=%s\n"+
			"destBucket=%s\ndestAccessKey=%s\ndestSecretKey=%s\n", filepath.ToSlash(src), srv.Endpoint, srv.Region, bucket, srv.AccessKey, srv.SecretKey)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	missing := write("no-such-bucket-c1")
	if out, err := runCheckCmd(t, missing); err != nil {
		t.Fatalf("offline check of a missing bucket: %v\n%s", err, out)
	}
	out, err := runCheckCmd(t, "--connect", missing)
	if exitCode(err) != 1 || !strings.Contains(out, "check destBucket") || strings.Contains(out, srv.SecretKey) {
		t.Fatalf("check --connect of a missing bucket: exit %d\n%s", exitCode(err), out)
	}
	out, err = runCheckCmd(t, "--connect", write(bucket))
	if err != nil || !strings.Contains(out, "check: connected") {
		t.Fatalf("check --connect of an existing bucket: %v\n%s", err, out)
	}
}
