package job

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/testenv"
)

// TestAzureDomainForms: job.cfg's srcDomain takes the forms the Azure
// store understands (the blob service URL, a connection string with
// BlobEndpoint=), so Azurite is reached from job.cfg alone: check
// accepts the file and preflight lists the container. A missing
// container fails preflight naming srcBucket.
func TestAzureDomainForms(t *testing.T) {
	srv := testenv.Azurite(t)
	container := srv.CreateContainer(t, "")
	for name, domain := range map[string]string{
		"url":               srv.Endpoint,
		"connection string": "DefaultEndpointsProtocol=http;AccountName=" + srv.Account + ";BlobEndpoint=" + srv.Endpoint + ";",
	} {
		t.Run(name, func(t *testing.T) {
			text := fmt.Sprintf("jobName=azure_job\nsrcType=azure\nsrcDomain=%s\nsrcBucket=%%s\nsrcAccessKey=%s\nsrcSecretKey=%s\n"+
				"destType=local\ndestBucket=%s\n", domain, srv.Account, srv.Key, t.TempDir())
			j, diags := config.ParseJob("job.cfg", fmt.Appendf(nil, text, container))
			if diags.HasErrors() || len(diags.Warnings()) != 0 {
				t.Fatalf("check: %v", diags)
			}
			spec, err := New(j, config.DefaultSys())
			if err != nil {
				t.Fatal(err)
			}
			if err := preflight(t, spec); err != nil {
				t.Fatalf("preflight: %v", err)
			}
			spec.Source.Bucket = "no-such-container"
			err = preflight(t, spec)
			if !errors.Is(err, storage.ErrBucketNotExist) || !strings.Contains(err.Error(), "srcBucket") {
				t.Fatalf("missing container: %v", err)
			}
		})
	}
}
