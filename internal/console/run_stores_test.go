package console

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/job"
	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/oss/osstest"
	"github.com/ossimport/ossimport/internal/testenv"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// `ossimport run` against real and faithful stores: versitygw (S3) and
// the OSS test server, which checks every signature.

// trickyTree writes the awkward cases under dir and returns the relative
// paths of the regular files a migration must copy, and the names that
// OSS refuses.
func trickyTree(t *testing.T, dir string) (valid, invalid []string) {
	t.Helper()
	files := map[string][]byte{
		"with space.txt":                  []byte("space"),
		"plus+sign.txt":                   []byte("plus"),
		"per%cent.txt":                    []byte("percent"),
		"per%20cent.txt":                  []byte("percent-encoded look-alike"),
		"question?mark.txt":               []byte("question"),
		"hash#tag.txt":                    []byte("hash"),
		"amp&ersand.txt":                  []byte("amp"),
		"中文/文件.txt":                       []byte("unicode"),
		"émoji-😀.png":                     []byte("emoji"),
		"deep/a/b/c/d/e/f/g/h/leaf.txt":   []byte("deep"),
		"empty.dat":                       nil,
		"dir with space/nested file.txt":  []byte("nested"),
		"large/multipart.bin":             randomData(t, 13<<20+12345),
		"large/just-below-threshold.bin":  randomData(t, 6<<20),
		"zero/also-empty":                 {},
		"target.txt":                      []byte("link target"),
		"looks/like/a/dir/but is a file/": nil, // written below as a directory: skipped
	}
	for rel, data := range files {
		if strings.HasSuffix(rel, "/") {
			if err := os.MkdirAll(filepath.Join(dir, rel), 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		writeFile(t, filepath.Join(dir, rel), data)
		valid = append(valid, rel)
	}
	if err := os.Symlink("target.txt", filepath.Join(dir, "link-to-target")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("deep", filepath.Join(dir, "link-to-dir")); err != nil {
		t.Fatal(err)
	}
	invalid = []string{"bad\nname.txt", "bad\xffutf8.txt"}
	for _, rel := range invalid {
		writeFile(t, filepath.Join(dir, rel), []byte("invalid"))
	}
	slices.Sort(valid)
	return valid, invalid
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func randomData(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// s3Spec is the store spec of a versitygw bucket.
func s3Spec(srv *testenv.S3Server, bucket string) storage.Spec {
	return storage.Spec{Type: "s3", Endpoint: srv.Endpoint, Region: srv.Region, Bucket: bucket,
		AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, PathStyle: true}
}

// engineSpec is a job between two stores with small multipart settings.
func engineSpec(src, dst storage.Spec, prefix, dstPrefix string) *job.Spec {
	return &job.Spec{
		Name: "it_job", Source: src, Dest: dst,
		Plan: plan.Options{Job: "it_job", Prefix: prefix, DstPrefix: dstPrefix, MaxObjects: 5, MaxBytes: 20 << 20, ScanThreads: 2, MaxScanDepth: 2},
		Transfer: transfer.Options{MultipartThreshold: 6 << 20, PartSize: 5 << 20, PartConcurrency: 3,
			VerifyAfterCopy: true, Attempts: 2},
		Threads: 8,
	}
}

// runSpec runs spec with `ossimport run` in this process (its job file
// only names the job; the resolver gives the spec) and returns the job's
// counters.
func runSpec(t *testing.T, spec *job.Spec, dir workdir.Dir) record.Counters {
	t.Helper()
	return runSpecCtx(t, t.Context(), spec, dir)
}

// runSpecCtx is runSpec until ctx ends.
func runSpecCtx(t *testing.T, ctx context.Context, spec *job.Spec, dir workdir.Dir) record.Counters {
	t.Helper()
	conf := t.TempDir()
	jobFile, sysFile := filepath.Join(conf, "job.cfg"), filepath.Join(conf, "sys.properties")
	writeFile(t, jobFile, []byte(fmt.Sprintf("jobName=%s\nsrcType=local\nsrcPrefix=%s/\ndestType=local\ndestBucket=%s\n", spec.Name, t.TempDir(), t.TempDir())))
	writeFile(t, sysFile, []byte(fmt.Sprintf("workingDir=%s\nnatsPort=%d\nhttpListen=\nworkerTaskThreadNum=8\n", dir, testenv.LoopbackPort(t))))
	resolve := func(string, []byte, *config.Sys) (*job.Spec, error) {
		cp := *spec
		return &cp, nil
	}
	var out, errOut bytes.Buffer
	err := runJob(ctx, &out, &errOut, runFlags{job: jobFile, sys: sysFile, resolve: resolve})
	if code := exitCode(err); code != 0 && code != 1 && ctx.Err() == nil {
		t.Fatalf("run: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	st, err := tracker.ReadStatus(dir, spec.Name)
	if err != nil {
		t.Fatal(err)
	}
	return statusCounters(st)
}

// statusCounters are a job's object counters as its status has them.
func statusCounters(st tracker.JobStatus) record.Counters {
	c := record.Counters{Objects: st.Objects.Total, Bytes: st.Bytes.Total, Failed: st.FailedObjs, ByCode: map[transfer.Code]int64{}}
	for code, n := range st.ByCode {
		c.ByCode[transfer.Code(code)] = n
	}
	c.Copied, c.Skipped = c.ByCode[transfer.Succeed], c.ByCode[transfer.Skipped]
	c.Verified = c.Copied + c.ByCode[transfer.AuditOK]
	return c
}

// failedKeys collects error.list keys and audit codes of failed tasks.
func failedKeys(t *testing.T, dir workdir.Dir, name string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, id := range workdir.Subdirs(filepath.Join(dir.Job(name), workdir.Failed)) {
		tdir := dir.Task(name, workdir.Failed, "", id)
		keys, err := record.ReadErrorList(tdir)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := record.ReadFinished(tdir)
		for _, k := range keys {
			out[k] = string(p.Finished[k])
		}
	}
	return out
}

// s3Object reads an object back with the AWS SDK.
func s3Object(t *testing.T, c *awss3.Client, bucket, key string) []byte {
	t.Helper()
	out, err := c.GetObject(t.Context(), &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get %q: %v", key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func s3Keys(t *testing.T, c *awss3.Client, bucket, prefix string) []string {
	t.Helper()
	var keys []string
	p := awss3.NewListObjectsV2Paginator(c, &awss3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			keys = append(keys, strings.TrimPrefix(*o.Key, prefix))
		}
	}
	slices.Sort(keys)
	return keys
}

// TestTrickyTreeLocalToS3ToS3 migrates the awkward cases from a local
// folder to versitygw, then from that bucket to another one, and compares
// every object with the source file byte for byte.
func TestRunTrickyTreeLocalToS3ToS3(t *testing.T) {
	srv := testenv.VersityGW(t)
	client := srv.Client(t)
	first, second := srv.CreateBucket(t, ""), srv.CreateBucket(t, "")
	src := t.TempDir()
	valid, invalid := trickyTree(t, src)
	// S3 takes names OSS refuses (a line break): each destination is
	// held to its own rules.
	invalid = slices.DeleteFunc(invalid, func(rel string) bool {
		if storage.CheckS3Key("migrated/"+rel) == nil {
			valid = append(valid, rel)
			return true
		}
		return false
	})
	slices.Sort(valid)

	dir := workdir.Dir(t.TempDir())
	spec := engineSpec(storage.Spec{Type: "local", Bucket: src + "/"}, s3Spec(srv, first), "", "migrated/")
	sum := runSpec(t, spec, dir)
	if got := s3Keys(t, client, first, "migrated/"); !slices.Equal(got, valid) {
		t.Fatalf("destination keys\n got %q\nwant %q", got, valid)
	}
	for _, rel := range valid {
		want, _ := os.ReadFile(filepath.Join(src, rel))
		if got := s3Object(t, client, first, "migrated/"+rel); !bytes.Equal(got, want) {
			t.Fatalf("%q differs from the source", rel)
		}
	}
	failed := failedKeys(t, dir, "it_job")
	for _, rel := range invalid {
		if failed[rel] != string(transfer.InvalidName) {
			t.Errorf("%q: error.list code %q, want InvalidName (all failed: %q)", rel, failed[rel], failed)
		}
	}
	if len(failed) != len(invalid) || sum.Skipped != 1 || sum.Copied != int64(len(valid)) {
		t.Errorf("summary %+v, failed %q: want %d copied, 1 skipped symlink, only the invalid names failed", sum, failed, len(valid))
	}

	// S3 -> S3 (server-side copy within the same endpoint).
	spec = engineSpec(s3Spec(srv, first), s3Spec(srv, second), "migrated/", "again/")
	sum = runSpec(t, spec, workdir.Dir(t.TempDir()))
	if sum.Failed != 0 || sum.Copied != int64(len(valid)) {
		t.Fatalf("S3 -> S3: %+v", sum)
	}
	for _, rel := range valid {
		want, _ := os.ReadFile(filepath.Join(src, rel))
		if got := s3Object(t, client, second, "again/"+rel); !bytes.Equal(got, want) {
			t.Fatalf("S3 -> S3: %q differs from the source", rel)
		}
	}
}

// TestSymlinksAllowed copies links to files, never links to folders.
func TestRunSymlinksAllowed(t *testing.T) {
	srv := testenv.VersityGW(t)
	bucket := srv.CreateBucket(t, "")
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "dir/file.txt"), []byte("through the link"))
	if err := os.Symlink("dir/file.txt", filepath.Join(src, "file-link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("dir", filepath.Join(src, "dir-link")); err != nil {
		t.Fatal(err)
	}
	spec := engineSpec(storage.Spec{Type: "local", Bucket: src + "/", AllowSymlinks: true}, s3Spec(srv, bucket), "", "")
	spec.Transfer.AllowSymlinks = true
	if sum := runSpec(t, spec, workdir.Dir(t.TempDir())); sum.Failed != 0 {
		t.Fatalf("%+v", sum)
	}
	if got := s3Keys(t, srv.Client(t), bucket, ""); !slices.Equal(got, []string{"dir/file.txt", "file-link"}) {
		t.Fatalf("keys %q, want the file and the link to it, not the folder link", got)
	}
	if got := s3Object(t, srv.Client(t), bucket, "file-link"); string(got) != "through the link" {
		t.Fatalf("link copied as %q", got)
	}
}

// TestSourceModifiedDuringUploadThenRetry rewrites a local file while its
// multipart upload runs: the object is SIZE_NOT_MATCH, and the next run
// copies the new version.
func TestRunSourceModifiedDuringUploadThenRetry(t *testing.T) {
	srv := testenv.VersityGW(t)
	bucket := srv.CreateBucket(t, "")
	src := t.TempDir()
	big := filepath.Join(src, "growing.log")
	writeFile(t, big, randomData(t, 16<<20))
	writeFile(t, filepath.Join(src, "steady.txt"), []byte("steady"))

	dir := workdir.Dir(t.TempDir())
	spec := engineSpec(storage.Spec{Type: "local", Bucket: src + "/"}, s3Spec(srv, bucket), "", "")
	spec.Threads, spec.Transfer.PartConcurrency = 1, 1
	appended := false
	spec.Transfer.OnUploadStarted = func(transfer.Object, string, int64) {
		if !appended {
			appended = true
			f, _ := os.OpenFile(big, os.O_APPEND|os.O_WRONLY, 0)
			fmt.Fprint(f, "one more line\n")
			f.Close()
		}
	}
	sum := runSpec(t, spec, dir)
	if sum.ByCode[transfer.SizeNotMatch] != 1 || sum.Copied != 1 {
		t.Fatalf("first run %+v, want growing.log SIZE_NOT_MATCH and steady.txt copied", sum)
	}
	spec.Transfer.OnUploadStarted = nil
	sum = runSpec(t, spec, dir)
	if sum.Failed != 0 {
		t.Fatalf("retry %+v", sum)
	}
	want, _ := os.ReadFile(big)
	if got := s3Object(t, srv.Client(t), bucket, "growing.log"); !bytes.Equal(got, want) {
		t.Fatalf("retry copied %d bytes, want the new version's %d", len(got), len(want))
	}
}

func ossSpec(srv *osstest.Server, bucket string) storage.Spec {
	return storage.Spec{Type: "oss", Endpoint: srv.URL, Region: srv.Region, Bucket: bucket,
		AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, PathStyle: true}
}

func newOSS(t *testing.T) *osstest.Server {
	return osstest.New(t, osstest.Options{AccessKey: "oss-test-ak", SecretKey: "oss-test-secret", Region: "cn-hangzhou"})
}

// TestTrickyTreeLocalToOSS migrates the awkward cases into the OSS test
// server, which checks every signature and reports CRC-64s.
func TestRunTrickyTreeLocalToOSS(t *testing.T) {
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
	if sum.Copied != int64(len(valid)) {
		t.Errorf("copied %d, want %d", sum.Copied, len(valid))
	}
}

// TestRunInterruptedLargeUploadResumesMissingParts stops a run in the
// middle of a multipart upload into the OSS test server: the next run
// resumes that upload (its record is in JetStream) and sends only parts
// the server lacks, and no unfinished upload is left.
func TestRunInterruptedLargeUploadResumesMissingParts(t *testing.T) {
	srv := newOSS(t)
	srv.CreateBucket("dest-bucket")
	src := t.TempDir()
	data := randomData(t, 10*(1<<20)+777) // 10 parts of 1 MiB and a tail
	writeFile(t, filepath.Join(src, "big.bin"), data)
	spec := engineSpec(storage.Spec{Type: "local", Bucket: src + "/"}, ossSpec(srv, "dest-bucket"), "", "")
	spec.Transfer.MultipartThreshold, spec.Transfer.PartSize, spec.Transfer.PartConcurrency = 1<<20, 1<<20, 1
	dir := workdir.Dir(t.TempDir())

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		runSpecCtx(t, ctx, spec, dir)
	}()
	testenv.Wait(t, time.Minute, "four parts on the server", func() bool { return srv.Count("UploadPart") >= 4 })
	cancel()
	<-done
	if srv.Uploads("dest-bucket") != 1 {
		t.Fatalf("%d multipart uploads open after the interruption, want the 1 to resume", srv.Uploads("dest-bucket"))
	}
	sent := srv.Count("UploadPart")
	srv.ResetCounts()
	if sum := runSpec(t, spec, dir); sum.Failed != 0 || sum.Copied != 1 {
		t.Fatalf("resumed run: %+v", sum)
	}
	if got := srv.Count("UploadPart"); got > 11-3 || got < 11-sent {
		t.Errorf("resume uploaded %d parts after %d were sent; want only the missing ones (%d to 8)", got, sent, 11-sent)
	}
	if srv.Count("InitiateMultipartUpload") != 0 {
		t.Error("resume started a new multipart upload")
	}
	if got, _, _ := srv.Object("dest-bucket", "big.bin"); !bytes.Equal(got, data) {
		t.Fatal("resumed object differs from the source")
	}
	if n := srv.Uploads("dest-bucket"); n != 0 {
		t.Errorf("%d unfinished multipart uploads left at the destination", n)
	}
}
