package job

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/oss/osstest"
	"github.com/ossimport/ossimport/internal/testenv"
)

// localSource is a srcType=local job head with one file to list.
func localSource(t *testing.T, name string) string {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	return "jobName=" + name + "\nsrcType=local\nsrcPrefix=" + filepath.ToSlash(dir) + "/\n"
}

func preflight(t *testing.T, spec *Spec) error {
	t.Helper()
	src, dst, err := Open(t.Context(), spec)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return Preflight(t.Context(), spec, src, dst)
}

// TestPreflightS3Bucket: on a real S3 server (versitygw) preflight
// refuses a missing destination bucket and refused keys, each with the
// keys to check, instead of failing every object later.
func TestPreflightS3Bucket(t *testing.T) {
	srv := testenv.VersityGW(t)
	bucket := srv.CreateBucket(t, "")
	job := func(bucket, secret string) *Spec {
		return parse(t, localSource(t, "pre_s3")+fmt.Sprintf("destType=s3\ndestDomain=%s\ndestRegion=%s\ndestBucket=%s\ndestAccessKey=%s\ndestSecretKey=%s\n",
			srv.Endpoint, srv.Region, bucket, srv.AccessKey, secret), "")
	}
	if err := preflight(t, job(bucket, srv.SecretKey)); err != nil {
		t.Fatalf("existing bucket: %v", err)
	}
	err := preflight(t, job("no-such-bucket-x1", srv.SecretKey))
	if !errors.Is(err, errPreflight) || !errors.Is(err, storage.ErrBucketNotExist) || !strings.Contains(err.Error(), "check destBucket") {
		t.Fatalf("missing bucket: %v", err)
	}
	err = preflight(t, job(bucket, "wrong-secret-Zq81"))
	if !errors.Is(err, storage.ErrAccessDenied) || !strings.Contains(err.Error(), "destSecretKey") || strings.Contains(err.Error(), "wrong-secret-Zq81") {
		t.Fatalf("wrong secret: %v", err)
	}
}

// TestPreflightOSSCname: a job.cfg with destUseCname reaches the bucket
// through its bound domain (https://<domain>/<key>) with an STS token,
// and preflight passes; a missing bucket behind an OSS endpoint fails.
func TestPreflightOSSCname(t *testing.T) {
	srv := osstest.New(t, osstest.Options{SecurityToken: "sts-1"})
	srv.CreateBucket("mybkt")
	srv.BindDomain("files.example.test", "mybkt")
	addr := strings.TrimPrefix(srv.URL, "http://")
	_, port, _ := net.SplitHostPort(addr)
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}}
	spec := parse(t, localSource(t, "pre_oss")+fmt.Sprintf("destDomain=http://files.example.test:%s\ndestUseCname=true\ndestRegion=%s\n"+
		"destBucket=mybkt\ndestAccessKey=%s\ndestSecretKey=%s\ndestSecurityToken=sts-1\n", port, srv.Region, srv.AccessKey, srv.SecretKey), "")
	if !spec.Dest.CName || spec.Dest.SessionToken != "sts-1" {
		t.Fatalf("dest spec %+v: CName and the token not mapped", spec.Dest.CName)
	}
	spec.Dest.HTTPClient = client
	if err := preflight(t, spec); err != nil {
		t.Fatalf("preflight through the bound domain: %v", err)
	}
	spec.Dest.SessionToken = ""
	if err := preflight(t, spec); !errors.Is(err, storage.ErrAccessDenied) {
		t.Fatalf("without the token: %v", err)
	}
	spec.Dest = storage.Spec{Type: "oss", Endpoint: srv.URL, Region: srv.Region, Bucket: "not-there", AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, SessionToken: "sts-1"}
	if err := preflight(t, spec); !errors.Is(err, storage.ErrBucketNotExist) || !strings.Contains(err.Error(), "destBucket") {
		t.Fatalf("missing bucket: %v", err)
	}
}

// TestDirMarkersKey: dirMarkers maps to the copier's policy, auto by
// default.
func TestDirMarkersKey(t *testing.T) {
	for v, want := range map[string]string{"": "", "dirMarkers=auto\n": "", "dirMarkers=copy\n": "copy", "dirMarkers=skip\n": "skip"} {
		spec := parse(t, localSource(t, "marker_job")+"destBucket=d\ndestDomain=oss-cn-hangzhou.aliyuncs.com\n"+v, "")
		if got := string(spec.Transfer.DirMarkers); got != want {
			t.Errorf("%q: policy %q, want %q", v, got, want)
		}
	}
}
