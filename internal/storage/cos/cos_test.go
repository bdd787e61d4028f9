package cos

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/storagetest"
	"github.com/ossimport/ossimport/internal/testenv"
)

const appID = "1250000000"

// openCOS creates "<name>-<appID>" on the test server and opens it the way
// an ossimport COS job names it: srcBucket=<name>, appId=<appID>.
func openCOS(t *testing.T, srv *testenv.S3Server) storage.Source {
	t.Helper()
	name := fmt.Sprintf("cos%08x", rand.Uint32())
	srv.CreateBucket(t, name+"-"+appID)
	st, err := storage.OpenSource(t.Context(), storage.Spec{
		Type: "cos", Endpoint: srv.Endpoint, Bucket: name, AppID: appID,
		AccessKey: srv.AccessKey, SecretKey: srv.SecretKey,
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestConformance(t *testing.T) {
	srv := testenv.VersityGW(t)
	storagetest.Run(t, func(t *testing.T) storage.Store { return openCOS(t, srv) }, storagetest.Options{
		NoKeyDirConflicts: true, // versitygw cannot hold "a" beside "a/b"; see the s3 package's test
	})
}

// TestLeadingSlash checks ossimport-style COS keys: "/docs/a" names docs/a,
// and listings under "/docs/" give keys starting with "/docs/".
func TestLeadingSlash(t *testing.T) {
	srv := testenv.VersityGW(t)
	src := openCOS(t, srv)
	w := src.(storage.Writer)
	ctx := t.Context()
	for _, k := range []string{"/docs/a", "/docs/b/c", "docs/d", "top"} {
		if _, err := w.Put(ctx, k, bytes.NewReader([]byte(k)), int64(len(k)), storage.Metadata{}); err != nil {
			t.Fatal(err)
		}
	}
	var keys, prefixes []string
	token := ""
	for {
		page, err := src.List(ctx, storage.ListOptions{Prefix: "/docs/", Delimiter: "/", Token: token, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Objects {
			keys = append(keys, o.Key)
		}
		prefixes = append(prefixes, page.Prefixes...)
		if token = page.NextToken; token == "" {
			break
		}
	}
	if !slices.Equal(keys, []string{"/docs/a", "/docs/d"}) || !slices.Equal(prefixes, []string{"/docs/b/"}) {
		t.Fatalf("list /docs/: keys %q prefixes %q", keys, prefixes)
	}
	page, err := src.List(ctx, storage.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, o := range page.Objects {
		all = append(all, o.Key)
	}
	if !slices.Equal(all, []string{"docs/a", "docs/b/c", "docs/d", "top"}) {
		t.Fatalf("list all: %q", all)
	}
	info, err := src.Stat(ctx, "/docs/b/c")
	if err != nil || info.Size != int64(len("/docs/b/c")) || info.Key != "/docs/b/c" {
		t.Fatalf("stat /docs/b/c: %+v, %v", info, err)
	}
}

func TestConfig(t *testing.T) {
	cases := []struct {
		endpoint, region, bucket, app string
		wantEndpoint, wantRe, wantBkt string
		wantErr                       bool
	}{
		{"gz", "", "photos", "1250000000", "https://cos.ap-guangzhou.myqcloud.com", "ap-guangzhou", "photos-1250000000", false},
		{"tj", "", "photos", "125", "https://cos.ap-beijing-1.myqcloud.com", "ap-beijing-1", "photos-125", false},
		{"sh", "", "photos-125", "125", "https://cos.ap-shanghai.myqcloud.com", "ap-shanghai", "photos-125", false},
		{"sgp", "", "p", "0", "https://cos.ap-singapore.myqcloud.com", "ap-singapore", "p", false},
		{"ger", "", "p", "", "https://cos.eu-frankfurt.myqcloud.com", "eu-frankfurt", "p", false},
		{"ap-guangzhou", "", "p", "7", "https://cos.ap-guangzhou.myqcloud.com", "ap-guangzhou", "p-7", false},
		{"", "cd", "p", "7", "https://cos.ap-chengdu.myqcloud.com", "ap-chengdu", "p-7", false},
		{"", "ap-hongkong", "p", "7", "https://cos.ap-hongkong.myqcloud.com", "ap-hongkong", "p-7", false},
		{"https://cos.na-toronto.myqcloud.com", "", "p", "7", "https://cos.na-toronto.myqcloud.com", "na-toronto", "p-7", false},
		{"cos.ap-beijing.myqcloud.com", "", "p", "7", "cos.ap-beijing.myqcloud.com", "ap-beijing", "p-7", false},
		{"http://127.0.0.1:7070", "", "p", "7", "http://127.0.0.1:7070", "", "p-7", false},
		{"localhost", "ap-beijing", "p", "7", "localhost", "ap-beijing", "p-7", false},
		{"", "", "p", "7", "", "", "", true},
		{"xx", "", "p", "7", "", "", "", true},
	}
	for _, c := range cases {
		cfg, err := config(storage.Spec{Type: "cos", Endpoint: c.endpoint, Region: c.region, Bucket: c.bucket, AppID: c.app})
		if c.wantErr {
			if err == nil {
				t.Errorf("%q/%q: no error", c.endpoint, c.region)
			}
			continue
		}
		if err != nil || cfg.Endpoint != c.wantEndpoint || cfg.Region != c.wantRe || cfg.Bucket != c.wantBkt || !cfg.StripLeadingSlash {
			t.Errorf("%q/%q: got %q region %q bucket %q (%v), want %q region %q bucket %q",
				c.endpoint, c.region, cfg.Endpoint, cfg.Region, cfg.Bucket, err, c.wantEndpoint, c.wantRe, c.wantBkt)
		}
	}
}
