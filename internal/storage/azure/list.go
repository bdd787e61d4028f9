package azure

import (
	"context"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/ossimport/ossimport/internal/storage"
)

const (
	defaultListLimit = 1000
	maxListLimit     = 5000 // the most Azure returns in one response
)

// List returns one page of the container's blobs in lexical order.
//
// The page token is Azure's NextMarker, passed back as the marker of the
// next request. Azure has no "start after key" parameter that every
// service version and emulator accepts (StartFrom is recent and
// inclusive), but its markers are plain strings that name where the next
// page starts and do not expire: Azure encodes a blob name in them,
// Azurite uses the last name returned as it is. So they may be
// checkpointed and used later by another process, as the storage contract
// asks. A token is only valid with the Prefix and Delimiter it was made
// with.
func (s *Store) List(ctx context.Context, opts storage.ListOptions) (storage.Page, error) {
	limit := opts.Limit
	if limit <= 0 {
		limit = defaultListLimit
	}
	limit = min(limit, maxListLimit)
	var marker, prefix *string
	if opts.Token != "" {
		marker = to.Ptr(opts.Token)
	}
	if opts.Prefix != "" {
		prefix = to.Ptr(opts.Prefix)
	}
	if opts.Delimiter == "" {
		return s.listFlat(ctx, prefix, marker, int32(limit))
	}
	return s.listHierarchy(ctx, opts.Delimiter, prefix, marker, int32(limit))
}

func (s *Store) listFlat(ctx context.Context, prefix, marker *string, limit int32) (storage.Page, error) {
	pager := s.client.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{
		Prefix: prefix, Marker: marker, MaxResults: &limit,
	})
	resp, err := pager.NextPage(ctx)
	if err != nil {
		return storage.Page{}, s.wrapErr("list prefix", deref(prefix), err)
	}
	var page storage.Page
	if resp.Segment != nil {
		page.Objects = objectsOf(resp.Segment.BlobItems)
	}
	page.NextToken = deref(resp.NextMarker)
	return page, nil
}

func (s *Store) listHierarchy(ctx context.Context, delim string, prefix, marker *string, limit int32) (storage.Page, error) {
	pager := s.client.NewListBlobsHierarchyPager(delim, &container.ListBlobsHierarchyOptions{
		Prefix: prefix, Marker: marker, MaxResults: &limit,
	})
	resp, err := pager.NextPage(ctx)
	if err != nil {
		return storage.Page{}, s.wrapErr("list prefix", deref(prefix), err)
	}
	var page storage.Page
	if seg := resp.Segment; seg != nil {
		page.Objects = objectsOf(seg.BlobItems)
		for _, p := range seg.BlobPrefixes {
			if p != nil && p.Name != nil {
				page.Prefixes = append(page.Prefixes, *p.Name)
			}
		}
	}
	page.NextToken = deref(resp.NextMarker)
	return page, nil
}

// objectsOf converts listed blobs. Deleted blobs and snapshots are not
// requested, so every item is a live blob.
func objectsOf(items []*container.BlobItem) []storage.ObjectInfo {
	objs := make([]storage.ObjectInfo, 0, len(items))
	for _, it := range items {
		if it == nil || it.Name == nil {
			continue
		}
		info := storage.ObjectInfo{Key: *it.Name, IsDir: strings.HasSuffix(*it.Name, "/")}
		if p := it.Properties; p != nil {
			fillListed(&info, p)
		}
		objs = append(objs, info)
	}
	return objs
}

// fillListed copies the properties a listing returns for free.
func fillListed(info *storage.ObjectInfo, p *container.BlobProperties) {
	if p.ContentLength != nil {
		info.Size = *p.ContentLength
	}
	if p.LastModified != nil {
		info.ModTime = *p.LastModified
	}
	if p.ETag != nil {
		info.ETag = unquote(string(*p.ETag))
	}
	if len(p.ContentMD5) == 16 {
		info.Checksums.MD5 = p.ContentMD5
	}
	if p.AccessTier != nil {
		info.StorageClass, info.Restore = tierOf(string(*p.AccessTier), p.AccessTierInferred)
	}
}

// tierOf returns the storage class to report for an access tier (""
// when the tier is only the account default) and whether the blob must
// be rehydrated before it can be read.
func tierOf(tier string, inferred *bool) (class string, restore bool) {
	restore = strings.EqualFold(tier, "Archive")
	if inferred != nil && *inferred {
		return "", restore
	}
	return tier, restore
}

func unquote(etag string) string { return strings.Trim(etag, `"`) }

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
