package runner

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/oss/osstest"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

func ossSpec(srv *osstest.Server, bucket string) storage.Spec {
	return storage.Spec{Type: "oss", Endpoint: srv.URL, Region: srv.Region, Bucket: bucket,
		AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, PathStyle: true}
}

func newOSS(t *testing.T) *osstest.Server {
	return osstest.New(t, osstest.Options{AccessKey: "oss-test-ak", SecretKey: "oss-test-secret", Region: "cn-hangzhou"})
}

// TestTrickyTreeLocalToOSS migrates the awkward cases into the OSS test
// server, which checks every signature and reports CRC-64s.
func TestTrickyTreeLocalToOSS(t *testing.T) {
	srv := newOSS(t)
	srv.CreateBucket("dest-bucket")
	src := t.TempDir()
	valid, invalid := trickyTree(t, src)
	dir := workdir.Dir(t.TempDir())
	spec := engineSpec(storage.Spec{Type: "local", Bucket: src + "/"}, ossSpec(srv, "dest-bucket"), "", "oss/")
	sum := runSpec(t, spec, dir)

	var keys []string
	for _, k := range srv.Keys("dest-bucket") {
		keys = append(keys, strings.TrimPrefix(k, "oss/"))
	}
	slices.Sort(keys)
	if !slices.Equal(keys, valid) {
		t.Fatalf("keys\n got %q\nwant %q", keys, valid)
	}
	for _, rel := range valid {
		want, _ := os.ReadFile(filepath.Join(src, rel))
		got, _, _ := srv.Object("dest-bucket", "oss/"+rel)
		if !bytes.Equal(got, want) {
			t.Fatalf("%q differs from the source", rel)
		}
	}
	failed := failedKeys(t, dir, "it_job")
	for _, rel := range invalid {
		if failed[rel] != string(transfer.InvalidName) {
			t.Errorf("%q: %q, want InvalidName", rel, failed[rel])
		}
	}
	if sum.Counters.Copied != int64(len(valid)) {
		t.Errorf("copied %d, want %d", sum.Counters.Copied, len(valid))
	}
}

// TestKilledLargeUploadResumesMissingParts stops a run in the middle of
// a multipart upload and checks that the next run uploads only the parts
// the server does not have.
func TestKilledLargeUploadResumesMissingParts(t *testing.T) {
	srv := newOSS(t)
	srv.CreateBucket("dest-bucket")
	src := t.TempDir()
	data := randomData(t, 10*(1<<20)+777) // 10 parts of 1 MiB and a tail
	writeFile(t, filepath.Join(src, "big.bin"), data)
	spec := engineSpec(storage.Spec{Type: "local", Bucket: src + "/"}, ossSpec(srv, "dest-bucket"), "", "")
	spec.Transfer.MultipartThreshold, spec.Transfer.PartSize, spec.Transfer.PartConcurrency = 1<<20, 1<<20, 1
	dir := workdir.Dir(t.TempDir())

	// Kill the run once four parts are on the server.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	r, err := New(ctx, Options{Job: spec, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = r.Run(ctx)
	}()
	for srv.Count("UploadPart") < 4 {
		select {
		case <-done:
			t.Fatal("the run finished before it could be interrupted")
		default:
		}
	}
	cancel()
	<-done
	if srv.Uploads("dest-bucket") != 1 {
		t.Fatalf("%d multipart uploads open after the interruption, want the 1 to resume", srv.Uploads("dest-bucket"))
	}
	sent := srv.Count("UploadPart")
	first := storedParts(t, srv, dir)
	if first < 3 || first >= 11 {
		t.Fatalf("%d parts stored before the interruption, want 3 to 10", first)
	}

	srv.ResetCounts()
	sum := runSpec(t, spec, dir)
	if !sum.OK() {
		t.Fatalf("resumed run: %+v", sum.Counters)
	}
	// A part whose request was cut by the interruption may still land on
	// the server after the check: the resume re-uploads at most the parts
	// missing at the check and at least those never sent.
	if got := srv.Count("UploadPart"); got > 11-first || got < 11-sent {
		t.Errorf("resume uploaded %d parts; %d were stored at the interruption and %d sent: want %d to %d",
			got, first, sent, 11-sent, 11-first)
	}
	if srv.Count("InitiateMultipartUpload") != 0 {
		t.Error("resume started a new multipart upload")
	}
	got, _, _ := srv.Object("dest-bucket", "big.bin")
	if !bytes.Equal(got, data) {
		t.Fatal("resumed object differs from the source")
	}
}

// storedParts counts the parts the server holds for the interrupted
// task's upload, found through the task's progress record.
func storedParts(t *testing.T, srv *osstest.Server, dir workdir.Dir) int {
	t.Helper()
	running := filepath.Join(dir.Job("it_job"), workdir.Dispatched, Worker)
	ids := workdir.Subdirs(running)
	if len(ids) != 1 {
		t.Fatalf("%d interrupted tasks, want 1", len(ids))
	}
	p, err := record.ReadProgress(filepath.Join(running, ids[0]))
	if err != nil || len(p.Uploads) != 1 {
		t.Fatalf("progress %+v (%v): want one upload in flight", p, err)
	}
	st, err := storage.Open(t.Context(), ossSpec(srv, "dest-bucket"))
	if err != nil {
		t.Fatal(err)
	}
	parts, err := st.(storage.MultipartWriter).ListParts(t.Context(), "big.bin", p.Uploads["big.bin"].UploadID)
	if err != nil {
		t.Fatal(err)
	}
	return len(parts)
}
