package cos

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/s3"
	"github.com/ossimport/ossimport/internal/storage/s3/s3test"
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
	s3test.CheckDerivations(t, "cos", config, []s3test.Derivation{
		{Endpoint: "gz", Bucket: "photos", AppID: "1250000000", WantEndpoint: "https://cos.ap-guangzhou.myqcloud.com", WantRegion: "ap-guangzhou", WantBucket: "photos-1250000000"},
		{Endpoint: "tj", Bucket: "photos", AppID: "125", WantEndpoint: "https://cos.ap-beijing-1.myqcloud.com", WantRegion: "ap-beijing-1", WantBucket: "photos-125"},
		{Endpoint: "sh", Bucket: "photos-125", AppID: "125", WantEndpoint: "https://cos.ap-shanghai.myqcloud.com", WantRegion: "ap-shanghai", WantBucket: "photos-125"},
		{Endpoint: "sgp", Bucket: "p", AppID: "0", WantEndpoint: "https://cos.ap-singapore.myqcloud.com", WantRegion: "ap-singapore", WantBucket: "p"},
		{Endpoint: "ger", Bucket: "p", WantEndpoint: "https://cos.eu-frankfurt.myqcloud.com", WantRegion: "eu-frankfurt", WantBucket: "p"},
		{Endpoint: "ap-guangzhou", Bucket: "p", AppID: "7", WantEndpoint: "https://cos.ap-guangzhou.myqcloud.com", WantRegion: "ap-guangzhou", WantBucket: "p-7"},
		{Region: "cd", Bucket: "p", AppID: "7", WantEndpoint: "https://cos.ap-chengdu.myqcloud.com", WantRegion: "ap-chengdu", WantBucket: "p-7"},
		{Region: "ap-hongkong", Bucket: "p", AppID: "7", WantEndpoint: "https://cos.ap-hongkong.myqcloud.com", WantRegion: "ap-hongkong", WantBucket: "p-7"},
		{Endpoint: "https://cos.na-toronto.myqcloud.com", Bucket: "p", AppID: "7", WantEndpoint: "https://cos.na-toronto.myqcloud.com", WantRegion: "na-toronto", WantBucket: "p-7"},
		{Endpoint: "cos.ap-beijing.myqcloud.com", Bucket: "p", AppID: "7", WantEndpoint: "cos.ap-beijing.myqcloud.com", WantRegion: "ap-beijing", WantBucket: "p-7"},
		{Endpoint: "http://127.0.0.1:7070", Bucket: "p", AppID: "7", WantEndpoint: "http://127.0.0.1:7070", WantBucket: "p-7"},
		{Endpoint: "localhost", Region: "ap-beijing", Bucket: "p", AppID: "7", WantEndpoint: "localhost", WantRegion: "ap-beijing", WantBucket: "p-7"},
		{Bucket: "p", AppID: "7", WantErr: true},
		{Endpoint: "xx", Bucket: "p", AppID: "7", WantErr: true},
	}, func(c s3.Config) bool { return c.StripLeadingSlash })
}
