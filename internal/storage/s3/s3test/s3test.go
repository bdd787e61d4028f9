// Package s3test holds the tests every S3-compatible provider package
// (qiniu, bos, ks3, cos) shares: the conformance suite against versitygw
// through the provider's own opener, and a table check of how the
// provider derives the S3 endpoint, region and bucket from ossimport's
// settings. It is imported by tests only.
package s3test

import (
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/s3"
	"github.com/ossimport/ossimport/internal/storage/storagetest"
	"github.com/ossimport/ossimport/internal/testenv"
)

// Conformance runs the storage conformance suite on stores of type typ,
// each opened on a fresh versitygw bucket (an IP endpoint, which every
// provider uses as it is). edit, when set, adjusts each spec.
func Conformance(t *testing.T, typ string, edit func(spec *storage.Spec)) {
	srv := testenv.VersityGW(t)
	storagetest.Run(t, func(t *testing.T) storage.Store {
		spec := storage.Spec{Type: typ, Endpoint: srv.Endpoint, Bucket: srv.CreateBucket(t, ""),
			AccessKey: srv.AccessKey, SecretKey: srv.SecretKey}
		if edit != nil {
			edit(&spec)
		}
		st, err := storage.Open(t.Context(), spec)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}, storagetest.Options{
		// versitygw keeps objects as files: "a" cannot sit beside "a/b".
		NoKeyDirConflicts: true,
	})
}

// Derivation is one row of a provider's derivation table: the settings
// as written in job.cfg and the S3 configuration they must give.
type Derivation struct {
	Endpoint, Region, Bucket, AppID      string // srcDomain, srcRegion, srcBucket ("" = "b"), appId
	WantEndpoint, WantRegion, WantBucket string // WantBucket "" = the bucket given
	WantErr                              bool
}

// CheckDerivations runs config on every row; check, when set, tests
// provider-specific fields of each successful result.
func CheckDerivations(t *testing.T, typ string, config func(storage.Spec) (s3.Config, error), rows []Derivation, check func(s3.Config) bool) {
	t.Helper()
	for _, r := range rows {
		bucket := r.Bucket
		if bucket == "" {
			bucket = "b"
		}
		want := r.WantBucket
		if want == "" {
			want = bucket
		}
		cfg, err := config(storage.Spec{Type: typ, Endpoint: r.Endpoint, Region: r.Region, Bucket: bucket, AppID: r.AppID})
		if r.WantErr {
			if err == nil {
				t.Errorf("%q/%q: no error", r.Endpoint, r.Region)
			}
			continue
		}
		if err != nil || cfg.Endpoint != r.WantEndpoint || cfg.Region != r.WantRegion || cfg.Bucket != want || (check != nil && !check(cfg)) {
			t.Errorf("%q/%q: got %q region %q bucket %q (%v), want %q region %q bucket %q",
				r.Endpoint, r.Region, cfg.Endpoint, cfg.Region, cfg.Bucket, err, r.WantEndpoint, r.WantRegion, want)
		}
	}
}
