package oss

import (
	"context"
	"fmt"
	"strings"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossimport/ossimport/internal/storage"
)

// maxListKeys is the largest page ListObjectsV2 returns.
const maxListKeys = 1000

// afterGroup sorts after every key that starts with a given common
// prefix: U+10FFFF is the largest code point, so "d/" + afterGroup is
// greater than any key "d/..." (short of keys containing U+10FFFF).
const afterGroup = "\U0010FFFF"

// List implements storage.Lister with ListObjectsV2. The page token is
// the last key or common prefix of the previous page; it is sent as
// start-after, so it never expires and works from any process.
func (s *Store) List(ctx context.Context, opts storage.ListOptions) (storage.Page, error) {
	limit := opts.Limit
	if limit <= 0 || limit > maxListKeys {
		limit = maxListKeys
	}
	req := &oss.ListObjectsV2Request{
		Bucket:     oss.Ptr(s.bucket),
		Prefix:     ptr(opts.Prefix),
		Delimiter:  ptr(opts.Delimiter),
		StartAfter: ptr(startAfter(opts)),
		MaxKeys:    int32(limit),
	}
	res, err := s.client.ListObjectsV2(ctx, req)
	if err != nil {
		return storage.Page{}, s.wrap(fmt.Sprintf("list prefix %q", opts.Prefix), err)
	}
	page := storage.Page{Objects: make([]storage.ObjectInfo, 0, len(res.Contents))}
	last := ""
	for _, o := range res.Contents {
		info := listedObject(o)
		page.Objects = append(page.Objects, info)
		last = max(last, info.Key)
	}
	for _, p := range res.CommonPrefixes {
		prefix := oss.ToString(p.Prefix)
		page.Prefixes = append(page.Prefixes, prefix)
		last = max(last, prefix)
	}
	if res.IsTruncated {
		page.NextToken = last
	}
	return page, nil
}

// startAfter turns a page token into ListObjectsV2's start-after. A token
// that is a common prefix stands for every key it groups, which must not
// come back, so the listing starts after the whole group.
func startAfter(opts storage.ListOptions) string {
	t := opts.Token
	if t == "" || opts.Delimiter == "" {
		return t
	}
	rest, ok := strings.CutPrefix(t, opts.Prefix)
	if !ok {
		return t
	}
	if i := strings.Index(rest, opts.Delimiter); i >= 0 && i+len(opts.Delimiter) == len(rest) {
		return t + afterGroup
	}
	return t
}

// listedObject converts a listing entry.
func listedObject(o oss.ObjectProperties) storage.ObjectInfo {
	key := oss.ToString(o.Key)
	info := storage.ObjectInfo{
		Key:          key,
		Size:         o.Size,
		ETag:         strings.Trim(oss.ToString(o.ETag), `"`),
		StorageClass: oss.ToString(o.StorageClass),
		IsDir:        strings.HasSuffix(key, "/"),
		Restore:      needsRestore(oss.ToString(o.StorageClass), oss.ToString(o.RestoreInfo)),
	}
	if o.LastModified != nil {
		info.ModTime = *o.LastModified
	}
	return info
}

// needsRestore reports whether an object of storage class with the given
// x-oss-restore state must be restored before it can be read.
func needsRestore(class, restore string) bool {
	switch class {
	case "Archive", "ColdArchive", "DeepColdArchive":
		return !strings.Contains(restore, `ongoing-request="false"`)
	}
	return false
}
