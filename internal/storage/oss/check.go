package oss

import (
	"context"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossimport/ossimport/internal/storage"
)

var (
	_ storage.BucketChecker = (*Store)(nil)
	_ storage.KeyChecker    = (*Store)(nil)
)

// CheckBucket implements storage.BucketChecker with a listing of one key
// (the keys need oss:ListObjects on the bucket).
func (s *Store) CheckBucket(ctx context.Context) error {
	_, err := s.client.ListObjectsV2(ctx, &oss.ListObjectsV2Request{Bucket: oss.Ptr(s.bucket), MaxKeys: 1})
	return s.wrap("check bucket", err)
}

// CheckKey implements storage.KeyChecker with OSS's name rules.
func (s *Store) CheckKey(key string) error { return storage.CheckOSSKey(key) }
