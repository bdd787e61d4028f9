package s3

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ossimport/ossimport/internal/storage"
)

// ListUploads implements storage.UploadLister with ListMultipartUploads,
// page by page.
func (s *Store) ListUploads(ctx context.Context, prefix string) ([]storage.PendingUpload, error) {
	in := &awss3.ListMultipartUploadsInput{Bucket: aws.String(s.cfg.Bucket), Prefix: aws.String(s.key(prefix))}
	var out []storage.PendingUpload
	for {
		page, err := s.client.ListMultipartUploads(ctx, in)
		if err != nil {
			return nil, s.wrapErr("list the multipart uploads under", prefix, err)
		}
		for _, u := range page.Uploads {
			out = append(out, storage.PendingUpload{Key: aws.ToString(u.Key), UploadID: aws.ToString(u.UploadId), Initiated: aws.ToTime(u.Initiated)})
		}
		if !aws.ToBool(page.IsTruncated) || (aws.ToString(page.NextKeyMarker) == "" && aws.ToString(page.NextUploadIdMarker) == "") {
			return out, nil
		}
		in.KeyMarker, in.UploadIdMarker = page.NextKeyMarker, page.NextUploadIdMarker
	}
}
