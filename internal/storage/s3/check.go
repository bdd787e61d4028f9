package s3

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/ossimport/ossimport/internal/storage"
)

var (
	_ storage.BucketChecker = (*Store)(nil)
	_ storage.KeyChecker    = (*Store)(nil)
)

// CheckBucket implements storage.BucketChecker with HeadBucket (the keys
// need s3:ListBucket). A bucket in another region than the one requests
// are signed for is reported with the region the service names.
func (s *Store) CheckBucket(ctx context.Context) error {
	_, err := s.client.HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: aws.String(s.cfg.Bucket)})
	if err == nil {
		return nil
	}
	code, status := errorCodeStatus(err)
	var re *smithyhttp.ResponseError
	region := ""
	if errors.As(err, &re) && re.Response != nil {
		region = re.Response.Header.Get("X-Amz-Bucket-Region")
	}
	switch {
	case region != "" && region != s.cfg.Region && (status == 301 || status == 400 || status == 403):
		return fmt.Errorf("check bucket: %s is in region %s, not %s: set srcRegion/destRegion=%s (or use the bucket's regional endpoint): %w",
			s, region, s.cfg.Region, region, err)
	case status == 404 || code == "NotFound" || code == "NoSuchBucket":
		return fmt.Errorf("check bucket: %w: %s has no bucket %q (check the bucket name, endpoint and region): %w",
			storage.ErrBucketNotExist, s, s.cfg.Bucket, err)
	}
	return s.wrapErr("check bucket", s.cfg.Bucket, err)
}

// CheckKey implements storage.KeyChecker with S3's name rules.
func (s *Store) CheckKey(key string) error {
	if s.cfg.StripLeadingSlash && len(key) > 0 && key[0] == '/' {
		key = key[1:]
	}
	return storage.CheckS3Key(key)
}
