package job

import (
	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/storage"
)

// destTypeHint is what a destination error says when destType=oss (the
// default) names an endpoint that is no OSS endpoint and no region: the
// endpoint is most likely S3-compatible, and the error (a region asked
// for, a signature refused) would otherwise send the operator to the
// wrong keys.
func destTypeHint(d storage.Spec) (string, bool) {
	if d.Type != "oss" || d.Endpoint == "" || d.Region != "" || config.OSSEndpoint(d.Endpoint) {
		return "", false
	}
	return " (destDomain is not an OSS endpoint: this looks like an S3-compatible endpoint, set destType=s3)", true
}
