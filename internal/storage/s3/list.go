package s3

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ossimport/ossimport/internal/storage"
)

// maxEmptyPages bounds the requests one List call makes while the service
// returns truncated pages holding nothing new.
const maxEmptyPages = 100

// List returns one page of a ListObjectsV2 listing. The token is the last
// key or prefix of the previous page and goes out as StartAfter; when it is
// a rolled-up prefix, the service returns that prefix again first and List
// drops it, asking for one entry more to make up for it.
func (s *Store) List(ctx context.Context, opts storage.ListOptions) (storage.Page, error) {
	limit := opts.Limit
	if limit <= 0 || limit > defaultListLimit {
		limit = defaultListLimit
	}
	view := ""
	prefix, token := opts.Prefix, opts.Token
	if s.cfg.StripLeadingSlash && strings.HasPrefix(prefix, "/") {
		view = "/"
		prefix, token = prefix[1:], strings.TrimPrefix(token, "/")
	}
	page, err := s.listPage(ctx, prefix, opts.Delimiter, token, limit)
	if err != nil {
		return storage.Page{}, s.wrapErr("list", opts.Prefix, err)
	}
	if view != "" {
		addView(&page, view)
	}
	return page, nil
}

// listPage lists up to limit entries after token.
func (s *Store) listPage(ctx context.Context, prefix, delim, token string, limit int) (storage.Page, error) {
	skipPrefix := delim != "" && len(token) > len(prefix) &&
		strings.HasPrefix(token, prefix) && strings.HasSuffix(token, delim)
	startAfter := token
	for range maxEmptyPages {
		maxKeys := limit
		if skipPrefix && startAfter == token {
			maxKeys++
		}
		raw, truncated, err := s.listRaw(ctx, prefix, delim, startAfter, maxKeys)
		if err != nil {
			return storage.Page{}, err
		}
		kept := make([]entry, 0, len(raw))
		for _, e := range raw {
			if e.name > token && !(skipPrefix && strings.HasPrefix(e.name, token)) {
				kept = append(kept, e)
			}
		}
		if len(kept) == 0 && truncated && len(raw) > 0 && raw[len(raw)-1].name > startAfter {
			startAfter = raw[len(raw)-1].name
			continue
		}
		if len(kept) == 0 && truncated {
			return storage.Page{}, fmt.Errorf("the listing does not advance after %q: the service returned a truncated page without new entries", startAfter)
		}
		next := ""
		if len(kept) > limit {
			kept, truncated = kept[:limit], true
		}
		if truncated && len(kept) > 0 {
			next = kept[len(kept)-1].name
		}
		return toPage(kept, next), nil
	}
	return storage.Page{}, fmt.Errorf("the listing does not advance after %q: %d truncated pages without new entries", startAfter, maxEmptyPages)
}

// entry is one object or rolled-up prefix of a listing.
type entry struct {
	name   string
	prefix bool
	obj    storage.ObjectInfo
}

// listRaw makes one ListObjectsV2 request and returns its objects and
// prefixes merged in key order.
func (s *Store) listRaw(ctx context.Context, prefix, delim, startAfter string, maxKeys int) ([]entry, bool, error) {
	in := &awss3.ListObjectsV2Input{
		Bucket:       aws.String(s.cfg.Bucket),
		Prefix:       optional(prefix),
		Delimiter:    optional(delim),
		StartAfter:   optional(startAfter),
		MaxKeys:      aws.Int32(int32(maxKeys)),
		EncodingType: types.EncodingTypeUrl,
	}
	if s.aws {
		in.OptionalObjectAttributes = []types.OptionalObjectAttributes{types.OptionalObjectAttributesRestoreStatus}
	}
	out, err := s.client.ListObjectsV2(ctx, in)
	if err != nil {
		return nil, false, err
	}
	decode := func(v string) (string, error) { return v, nil }
	if out.EncodingType == types.EncodingTypeUrl {
		decode = url.QueryUnescape
	}
	entries := make([]entry, 0, len(out.Contents)+len(out.CommonPrefixes))
	for _, o := range out.Contents {
		key, err := decode(aws.ToString(o.Key))
		if err != nil {
			return nil, false, fmt.Errorf("decode listed key %q: %w", aws.ToString(o.Key), err)
		}
		entries = append(entries, entry{name: key, obj: listedObject(key, o)})
	}
	for _, p := range out.CommonPrefixes {
		name, err := decode(aws.ToString(p.Prefix))
		if err != nil {
			return nil, false, fmt.Errorf("decode listed prefix %q: %w", aws.ToString(p.Prefix), err)
		}
		entries = append(entries, entry{name: name, prefix: true})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	return entries, aws.ToBool(out.IsTruncated), nil
}

// listedObject converts one listed object.
func listedObject(key string, o types.Object) storage.ObjectInfo {
	class := string(o.StorageClass)
	restore := isArchiveClass(class)
	if rs := o.RestoreStatus; restore && rs != nil {
		restore = aws.ToBool(rs.IsRestoreInProgress) || rs.RestoreExpiryDate == nil
	}
	return storage.ObjectInfo{
		Key:          key,
		Size:         aws.ToInt64(o.Size),
		ModTime:      aws.ToTime(o.LastModified),
		ETag:         unquote(aws.ToString(o.ETag)),
		StorageClass: class,
		IsDir:        strings.HasSuffix(key, "/"),
		Restore:      restore,
	}
}

// toPage splits merged entries into a page.
func toPage(entries []entry, next string) storage.Page {
	page := storage.Page{NextToken: next}
	for _, e := range entries {
		if e.prefix {
			page.Prefixes = append(page.Prefixes, e.name)
		} else {
			page.Objects = append(page.Objects, e.obj)
		}
	}
	return page
}

// addView puts the leading "/" of a StripLeadingSlash listing back.
func addView(page *storage.Page, view string) {
	for i := range page.Objects {
		page.Objects[i].Key = view + page.Objects[i].Key
	}
	for i := range page.Prefixes {
		page.Prefixes[i] = view + page.Prefixes[i]
	}
	if page.NextToken != "" {
		page.NextToken = view + page.NextToken
	}
}

// isArchiveClass reports whether objects of a storage class must be
// restored before they can be read. Amazon names them GLACIER and
// DEEP_ARCHIVE (GLACIER_IR reads directly); the S3 APIs of the other
// clouds use ARCHIVE, COLD_ARCHIVE and DEEP_COLD_ARCHIVE too.
func isArchiveClass(class string) bool {
	switch strings.ToUpper(strings.ReplaceAll(class, "_", "")) {
	case "GLACIER", "DEEPARCHIVE", "ARCHIVE", "COLDARCHIVE", "DEEPCOLDARCHIVE":
		return true
	}
	return false
}

// optional returns nil for "", so empty parameters are left out.
func optional(v string) *string {
	if v == "" {
		return nil
	}
	return aws.String(v)
}

// unquote removes the quotes around an ETag.
func unquote(etag string) string {
	return strings.Trim(etag, `"`)
}
