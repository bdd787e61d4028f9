package s3_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/s3"
	"github.com/ossimport/ossimport/internal/storage/storagetest"
)

// liveVars configure TestLive; OSSIMPORT_TEST_S3_ENDPOINT (empty = AWS)
// and OSSIMPORT_TEST_S3_REGION are optional.
var liveVars = []string{"OSSIMPORT_TEST_S3_BUCKET", "OSSIMPORT_TEST_S3_ACCESS_KEY_ID", "OSSIMPORT_TEST_S3_SECRET_ACCESS_KEY"}

// TestLive runs the conformance suite against a real S3 bucket, which
// must be empty and used for nothing else: every sub-test shares it and
// everything in it is deleted after each.
func TestLive(t *testing.T) {
	for _, v := range liveVars {
		if os.Getenv(v) == "" {
			t.Skipf("live S3 test: set %s (and optionally OSSIMPORT_TEST_S3_ENDPOINT, OSSIMPORT_TEST_S3_REGION) "+
				"to run the conformance suite against an empty bucket dedicated to it", strings.Join(liveVars, ", "))
		}
	}
	cfg := s3.Config{
		Endpoint:  os.Getenv("OSSIMPORT_TEST_S3_ENDPOINT"),
		Region:    os.Getenv("OSSIMPORT_TEST_S3_REGION"),
		Bucket:    os.Getenv("OSSIMPORT_TEST_S3_BUCKET"),
		AccessKey: os.Getenv("OSSIMPORT_TEST_S3_ACCESS_KEY_ID"),
		SecretKey: os.Getenv("OSSIMPORT_TEST_S3_SECRET_ACCESS_KEY"),
	}
	storagetest.Run(t, func(t *testing.T) storage.Store {
		st := newStore(t, cfg)
		empty(t, st)
		t.Cleanup(func() { empty(t, st) })
		return st
	}, storagetest.Options{})
}

// empty deletes every object of the bucket.
func empty(t *testing.T, st *s3.Store) {
	t.Helper()
	ctx := context.WithoutCancel(t.Context())
	for token := ""; ; {
		page, err := st.List(ctx, storage.ListOptions{Token: token})
		if err != nil {
			t.Fatalf("empty the live bucket: %v", err)
		}
		for _, o := range page.Objects {
			if err := st.Delete(ctx, o.Key); err != nil {
				t.Fatalf("empty the live bucket: %v", err)
			}
		}
		if token = page.NextToken; token == "" {
			return
		}
	}
}
