package oss

import (
	"context"
	"fmt"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossimport/ossimport/internal/storage"
)

// ListUploads implements storage.UploadLister with ListMultipartUploads,
// page by page.
func (s *Store) ListUploads(ctx context.Context, prefix string) ([]storage.PendingUpload, error) {
	in := &oss.ListMultipartUploadsRequest{Bucket: oss.Ptr(s.bucket), Prefix: oss.Ptr(prefix)}
	var out []storage.PendingUpload
	for {
		page, err := s.client.ListMultipartUploads(ctx, in)
		if err != nil {
			return nil, s.wrap(fmt.Sprintf("list the multipart uploads under %q", prefix), err)
		}
		for _, u := range page.Uploads {
			pu := storage.PendingUpload{Key: oss.ToString(u.Key), UploadID: oss.ToString(u.UploadId)}
			if u.Initiated != nil {
				pu.Initiated = *u.Initiated
			}
			out = append(out, pu)
		}
		if !page.IsTruncated || (oss.ToString(page.NextKeyMarker) == "" && oss.ToString(page.NextUploadIdMarker) == "") {
			return out, nil
		}
		in.KeyMarker, in.UploadIdMarker = page.NextKeyMarker, page.NextUploadIdMarker
	}
}
