package oss_test

import (
	"context"
	"os"
	"strings"
	"testing"

	sdk "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/oss"
	"github.com/ossimport/ossimport/internal/storage/oss/osstest"
	"github.com/ossimport/ossimport/internal/storage/storagetest"
)

// liveVars configure TestLive. OSSIMPORT_TEST_OSS_REGION is also read, for
// endpoints that do not name their region.
var liveVars = []string{
	"OSSIMPORT_TEST_OSS_ENDPOINT",
	"OSSIMPORT_TEST_OSS_BUCKET",
	"OSSIMPORT_TEST_OSS_ACCESS_KEY_ID",
	"OSSIMPORT_TEST_OSS_ACCESS_KEY_SECRET",
}

// TestLive runs the conformance suite against real OSS. The bucket must
// be empty and used for nothing else: every sub-test shares it, and all
// its objects and unfinished multipart uploads are deleted after each.
func TestLive(t *testing.T) {
	for _, v := range liveVars {
		if os.Getenv(v) == "" {
			t.Skipf("live OSS test: set %s (and OSSIMPORT_TEST_OSS_REGION if the endpoint does not name the region) "+
				"to run the conformance suite against an empty OSS bucket dedicated to it", strings.Join(liveVars, ", "))
		}
	}
	runShared(t, storage.Spec{
		Type:      "oss",
		Endpoint:  os.Getenv("OSSIMPORT_TEST_OSS_ENDPOINT"),
		Region:    os.Getenv("OSSIMPORT_TEST_OSS_REGION"),
		Bucket:    os.Getenv("OSSIMPORT_TEST_OSS_BUCKET"),
		AccessKey: os.Getenv("OSSIMPORT_TEST_OSS_ACCESS_KEY_ID"),
		SecretKey: os.Getenv("OSSIMPORT_TEST_OSS_ACCESS_KEY_SECRET"),
	})
}

// TestSharedBucket runs what TestLive runs against the test server, so
// the live harness itself is tested.
func TestSharedBucket(t *testing.T) {
	srv := osstest.New(t, osstest.Options{})
	srv.CreateBucket("shared")
	runShared(t, specFor(srv, "shared"))
	if keys, n := srv.Keys("shared"), srv.Uploads("shared"); len(keys) > 0 || n > 0 {
		t.Fatalf("left behind: objects %q, %d uploads", keys, n)
	}
}

// runShared runs the conformance suite on one bucket, emptying it after
// every sub-test.
func runShared(t *testing.T, spec storage.Spec) {
	st, err := oss.New(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	page, err := st.List(t.Context(), storage.ListOptions{Limit: 1})
	if err != nil {
		t.Fatalf("list %s: %v", st, err)
	}
	if len(page.Objects) > 0 {
		t.Fatalf("%s holds objects (%q...); the test deletes everything in its bucket, so give it an empty one", st, page.Objects[0].Key)
	}
	storagetest.Run(t, func(t *testing.T) storage.Store {
		t.Cleanup(func() {
			// A leftover upload shows that aborting works.
			_, _ = st.CreateMultipart(context.Background(), "leftover", storage.Metadata{})
			emptyBucket(t, st, spec)
		})
		return st
	}, storagetest.Options{})
}

// emptyBucket deletes every object and aborts every multipart upload.
func emptyBucket(t *testing.T, st *oss.Store, spec storage.Spec) {
	ctx := context.Background() // t.Context is done when cleanups run
	for token := ""; ; {
		page, err := st.List(ctx, storage.ListOptions{Token: token})
		if err != nil {
			t.Fatalf("empty %s: %v", st, err)
		}
		for _, o := range page.Objects {
			if err := st.Delete(ctx, o.Key); err != nil {
				t.Fatalf("empty %s: %v", st, err)
			}
		}
		if token = page.NextToken; token == "" {
			break
		}
	}
	client := sdkClient(spec)
	p := client.NewListMultipartUploadsPaginator(&sdk.ListMultipartUploadsRequest{Bucket: sdk.Ptr(spec.Bucket)})
	for p.HasNext() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("list uploads of %s: %v", st, err)
		}
		for _, u := range page.Uploads {
			if err := st.AbortMultipart(ctx, sdk.ToString(u.Key), sdk.ToString(u.UploadId)); err != nil {
				t.Fatalf("empty %s: %v", st, err)
			}
		}
	}
}

// sdkClient is a plain SDK client for spec, for what the store does not
// offer.
func sdkClient(spec storage.Spec) *sdk.Client {
	cfg := sdk.LoadDefaultConfig().
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(spec.AccessKey, spec.SecretKey)).
		WithEndpoint(spec.Endpoint)
	if spec.Region != "" {
		cfg.WithRegion(spec.Region)
	} else if st, err := oss.New(context.Background(), spec); err == nil {
		cfg.WithRegion(st.Region())
	}
	return sdk.NewClient(cfg)
}
