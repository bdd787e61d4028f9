package plan

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/ossimport/ossimport/internal/storage"
	_ "github.com/ossimport/ossimport/internal/storage/azure"
	"github.com/ossimport/ossimport/internal/storage/local"
	"github.com/ossimport/ossimport/internal/storage/s3"
	"github.com/ossimport/ossimport/internal/testenv"
	"github.com/ossimport/ossimport/internal/transfer"
)

// planAndCopy plans every object of src and copies each to dst, returning
// the results by source key. It fails when a planned or listed key gets
// no result or more than one.
func planAndCopy(t *testing.T, src storage.Source, dst storage.Destination, topts transfer.Options) map[string]transfer.Result {
	t.Helper()
	c := &collector{}
	if _, err := run(t, src, Options{Job: "j", MaxObjects: 100, MaxBytes: 1 << 30}, c, nil); err != nil {
		t.Fatal(err)
	}
	cp, err := transfer.New(dst, src, topts)
	if err != nil {
		t.Fatal(err)
	}
	results := map[string]transfer.Result{}
	for _, id := range c.order {
		cp.RunAll(t.Context(), transfer.NewSlots(2), c.tasks[id].Objects, func(r transfer.Result) {
			if _, dup := results[r.Object.Key]; dup {
				t.Errorf("%q has two results", r.Object.Key)
			}
			results[r.Object.Key] = r
		})
	}
	var listed []string
	for token := ""; ; {
		page, err := src.List(t.Context(), storage.ListOptions{Token: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Objects {
			listed = append(listed, o.Key)
		}
		if token = page.NextToken; token == "" {
			break
		}
	}
	var got []string
	for k := range results {
		got = append(got, k)
	}
	slices.Sort(got)
	slices.Sort(listed)
	if !slices.Equal(got, listed) {
		t.Fatalf("results for %q, listed %q: every listed object must end in exactly one report", got, listed)
	}
	return results
}

func versity(t *testing.T, srv *testenv.S3Server) *s3.Store {
	t.Helper()
	st, err := s3.New(t.Context(), s3.Config{Endpoint: srv.Endpoint, Region: srv.Region, Bucket: srv.CreateBucket(t, ""),
		AccessKey: srv.AccessKey, SecretKey: srv.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func testOpts() transfer.Options {
	return transfer.Options{MultipartThreshold: 1 << 20, PartSize: 1 << 20, RetryBase: time.Millisecond, Attempts: 1}
}

// TestDirectoryKeysAzureToS3 migrates an Azurite container holding a
// zero-byte marker "m/", a 21-byte blob "x/" and plain blobs to
// versitygw: the marker is copied as a marker, "x/" (which versitygw's
// posix backend refuses: a directory cannot hold data) is reported
// failed, and every listed blob has exactly one result.
func TestDirectoryKeysAzureToS3(t *testing.T) {
	az := testenv.Azurite(t)
	container := az.CreateContainer(t, "")
	client := az.Client(t)
	for key, body := range map[string]string{"m/": "", "m/f.txt": "file", "x/": "twenty-one bytes here", "top.txt": "top"} {
		if _, err := client.UploadBuffer(t.Context(), container, key, []byte(body), &azblob.UploadBufferOptions{}); err != nil {
			t.Fatalf("upload %q: %v", key, err)
		}
	}
	src, err := storage.Open(t.Context(), storage.Spec{Type: "azure", Endpoint: az.Endpoint, AccessKey: az.Account, SecretKey: az.Key, Bucket: container})
	if err != nil {
		t.Fatal(err)
	}
	dst := versity(t, testenv.VersityGW(t))
	res := planAndCopy(t, src.(storage.Source), dst, testOpts())
	for key, want := range map[string]transfer.Code{"m/": transfer.Succeed, "m/f.txt": transfer.Succeed, "top.txt": transfer.Succeed, "x/": transfer.UploadFailed} {
		if got := res[key]; got.Code != want {
			t.Errorf("%q: %s %q, want %s", key, got.Code, got.Detail, want)
		}
	}
	if info, err := dst.Stat(t.Context(), "m/"); err != nil || info.Size != 0 || !info.IsDir {
		t.Errorf("marker at the destination: %+v, %v", info, err)
	}
}

// TestDirectoryKeysS3ToLocalAndBack: markers listed from versitygw are
// reported Skipped, with the reason, on their way to a local directory,
// and a rerun to versitygw with isSkipExistFile skips the markers it
// copied before.
func TestDirectoryKeysS3ToLocalAndBack(t *testing.T) {
	srv := testenv.VersityGW(t)
	src := versity(t, srv)
	for key, body := range map[string]string{"d/": "", "d/e/": "", "d/e/f.txt": "data"} {
		if _, err := src.Put(t.Context(), key, strings.NewReader(body), int64(len(body)), storage.Metadata{}); err != nil {
			t.Fatalf("put %q: %v", key, err)
		}
	}
	dir, err := local.New(t.TempDir(), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := planAndCopy(t, src, dir, testOpts())
	for _, key := range []string{"d/", "d/e/"} {
		if r := res[key]; r.Code != transfer.Skipped || !strings.Contains(r.Detail, "directory marker") {
			t.Errorf("%q to a local directory: %s %q, want Skipped naming the directory marker", key, r.Code, r.Detail)
		}
	}
	if r := res["d/e/f.txt"]; r.Code != transfer.Succeed {
		t.Errorf("d/e/f.txt: %s %q", r.Code, r.Detail)
	}

	dst := versity(t, srv)
	opts := testOpts()
	opts.SkipExisting = true
	first := planAndCopy(t, src, dst, opts)
	again := planAndCopy(t, src, dst, opts)
	for _, key := range []string{"d/", "d/e/"} {
		if first[key].Code != transfer.Succeed || again[key].Code != transfer.Skipped {
			t.Errorf("%q: first %s %q, rerun %s %q, want Succeed then Skipped", key, first[key].Code, first[key].Detail, again[key].Code, again[key].Detail)
		}
	}
}
