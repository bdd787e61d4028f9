package master_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ossimport/ossimport/internal/testenv"
	"github.com/ossimport/ossimport/internal/tracker"
)

// When a job ends, the multipart uploads under its destination prefix
// that no record names (a copy killed between starting an upload and
// recording it leaves one) are aborted at the destination (versitygw);
// uploads under other prefixes are left alone.
func TestJobEndAbortsUnrecordedUploads(t *testing.T) {
	c := newCluster(t)
	c.writeFiles(6)
	s3 := testenv.VersityGW(t)
	bucket := s3.CreateBucket(t, "")
	client := s3.Client(t)
	start := func(key string) string {
		out, err := client.CreateMultipartUpload(t.Context(), &awss3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.UploadId)
	}
	pending := func() []string {
		out, err := client.ListMultipartUploads(t.Context(), &awss3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, u := range out.Uploads {
			keys = append(keys, aws.ToString(u.Key)+" "+aws.ToString(u.UploadId))
		}
		return keys
	}
	c.startMaster()
	c.submit("sweep_job", fmt.Sprintf("destType=s3\ndestDomain=%s\ndestBucket=%s\ndestAccessKey=%s\ndestSecretKey=%s\ndestPrefix=mig/\n",
		s3.Endpoint, bucket, s3.AccessKey, s3.SecretKey))
	// No worker yet: the job cannot end before these exist.
	orphan := start("mig/f1-left-by-a-killed-copy")
	other := start("elsewhere/not-ours")
	c.startWorker("10.0.0.1")
	c.waitState("sweep_job", tracker.Succeed)
	testenv.Wait(t, 30*time.Second, "the unrecorded upload under the job's prefix to be aborted", func() bool {
		return !slices.Contains(pending(), "mig/f1-left-by-a-killed-copy "+orphan)
	})
	if got := pending(); !slices.Equal(got, []string{"elsewhere/not-ours " + other}) {
		t.Fatalf("uploads left at the destination: %v; want only the one outside the job's prefix", got)
	}
}
