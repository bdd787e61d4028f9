package osstest

import (
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// putBucket creates a bucket (PutBucket), optionally with a default
// storage class in a CreateBucketConfiguration document.
func (s *Server) putBucket(rq *request) *ossError {
	if !bucketNameRE.MatchString(rq.bucket) {
		return errorf(http.StatusBadRequest, "InvalidBucketName", "The specified bucket is not valid.").with("BucketName", rq.bucket)
	}
	var conf struct {
		StorageClass string
	}
	body, _ := io.ReadAll(io.LimitReader(rq.r.Body, 1<<20))
	if len(body) > 0 {
		if err := xml.Unmarshal(body, &conf); err != nil {
			return errorf(http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed.")
		}
	}
	class := classStandard
	if conf.StorageClass != "" {
		if !slices.Contains(storageClasses, conf.StorageClass) {
			return errInvalidArgument("StorageClass", conf.StorageClass, "Invalid storage class.")
		}
		class = conf.StorageClass
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.buckets[rq.bucket]; ok {
		return errorf(http.StatusConflict, "BucketAlreadyExists",
			"The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.")
	}
	s.buckets[rq.bucket] = newBucket(rq.bucket, class)
	return okEmpty(rq)
}

// deleteBucket removes an empty bucket (DeleteBucket).
func (s *Server) deleteBucket(rq *request) *ossError {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.lookupBucket(rq.bucket)
	if err != nil {
		return err
	}
	if len(b.objects) > 0 || len(b.uploads) > 0 {
		return errorf(http.StatusConflict, "BucketNotEmpty", "The bucket you tried to delete is not empty.").with("BucketName", rq.bucket)
	}
	delete(s.buckets, rq.bucket)
	return noContent(rq)
}

type owner struct {
	ID          string
	DisplayName string
}

var testOwner = owner{ID: "1234567890123456", DisplayName: "1234567890123456"}

type bucketInfo struct {
	XMLName xml.Name `xml:"BucketInfo"`
	Bucket  struct {
		Name              string
		CreationDate      string
		ExtranetEndpoint  string
		IntranetEndpoint  string
		Location          string
		StorageClass      string
		Owner             owner
		AccessControlList struct{ Grant string }
	}
}

// getBucketInfo describes a bucket (GetBucketInfo).
func (s *Server) getBucketInfo(rq *request) *ossError {
	b, err := s.bucketFor(rq)
	if err != nil {
		return err
	}
	var info bucketInfo
	info.Bucket.Name = b.name
	info.Bucket.CreationDate = xmlTime(b.created)
	info.Bucket.ExtranetEndpoint = fmt.Sprintf("oss-%s.aliyuncs.com", s.Region)
	info.Bucket.IntranetEndpoint = fmt.Sprintf("oss-%s-internal.aliyuncs.com", s.Region)
	info.Bucket.Location = "oss-" + s.Region
	info.Bucket.StorageClass = b.class
	info.Bucket.Owner = testOwner
	info.Bucket.AccessControlList.Grant = "private"
	return s.writeXML(rq, info)
}

type accessControlPolicy struct {
	XMLName           xml.Name `xml:"AccessControlPolicy"`
	Owner             owner
	AccessControlList struct{ Grant string }
}

// getBucketACL returns a private ACL (GetBucketAcl); the SDK's
// IsBucketExist uses it.
func (s *Server) getBucketACL(rq *request) *ossError {
	if _, err := s.bucketFor(rq); err != nil {
		return err
	}
	acl := accessControlPolicy{Owner: testOwner}
	acl.AccessControlList.Grant = "private"
	return s.writeXML(rq, acl)
}

type listEntry struct {
	Key          string
	LastModified string
	ETag         string
	Type         string
	Size         int64
	StorageClass string
	RestoreInfo  string `xml:",omitempty"`
	Owner        *owner `xml:",omitempty"`
}

type commonPrefix struct {
	Prefix string
}

type listV1Result struct {
	XMLName        xml.Name `xml:"ListBucketResult"`
	Name           string
	Prefix         string
	Marker         string
	MaxKeys        int
	Delimiter      string
	EncodingType   string `xml:",omitempty"`
	IsTruncated    bool
	NextMarker     string `xml:",omitempty"`
	Contents       []listEntry
	CommonPrefixes []commonPrefix
}

type listV2Result struct {
	XMLName               xml.Name `xml:"ListBucketResult"`
	Name                  string
	Prefix                string
	StartAfter            string `xml:",omitempty"`
	ContinuationToken     string `xml:",omitempty"`
	MaxKeys               int
	Delimiter             string
	EncodingType          string `xml:",omitempty"`
	IsTruncated           bool
	NextContinuationToken string `xml:",omitempty"`
	KeyCount              int
	Contents              []listEntry
	CommonPrefixes        []commonPrefix
}

// listQuery holds the parameters both listing versions share.
type listQuery struct {
	prefix, delimiter string
	maxKeys           int
	encode            func(string) string
}

func parseListQuery(q url.Values) (listQuery, *ossError) {
	lq := listQuery{prefix: q.Get("prefix"), delimiter: q.Get("delimiter"), maxKeys: 100, encode: func(v string) string { return v }}
	if v := q.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return lq, errInvalidArgument("max-keys", v, "Argument max-keys must be an integer between 1 and 1000.")
		}
		lq.maxKeys = n
	}
	switch v := q.Get("encoding-type"); v {
	case "":
	case "url":
		lq.encode = urlEncode
	default:
		return lq, errInvalidArgument("encoding-type", v, "Argument encoding-type must be url.")
	}
	return lq, nil
}

// listObjectsV1 lists a bucket after a marker (ListObjects).
func (s *Server) listObjectsV1(rq *request) *ossError {
	q := rq.r.URL.Query()
	lq, err := parseListQuery(q)
	if err != nil {
		return err
	}
	l, err := s.list(rq.bucket, lq, q.Get("marker"))
	if err != nil {
		return err
	}
	res := listV1Result{
		Name: rq.bucket, Prefix: lq.encode(lq.prefix), Marker: lq.encode(q.Get("marker")), MaxKeys: lq.maxKeys,
		Delimiter: lq.encode(lq.delimiter), EncodingType: q.Get("encoding-type"), IsTruncated: l.truncated,
		Contents: l.entries(lq.encode, true), CommonPrefixes: l.commonPrefixes(lq.encode),
	}
	if l.truncated {
		res.NextMarker = lq.encode(l.last)
	}
	return s.writeXML(rq, res)
}

// listObjectsV2 lists a bucket after start-after or from a continuation
// token (ListObjectsV2). The token encodes the last entry returned.
func (s *Server) listObjectsV2(rq *request) *ossError {
	q := rq.r.URL.Query()
	lq, err := parseListQuery(q)
	if err != nil {
		return err
	}
	after := q.Get("start-after")
	if token, ok := q["continuation-token"]; ok {
		raw, derr := base64.RawURLEncoding.DecodeString(token[0])
		if derr != nil || len(raw) == 0 {
			return errInvalidArgument("continuation-token", token[0], "The continuation token provided is incorrect.")
		}
		after = string(raw)
	}
	l, err := s.list(rq.bucket, lq, after)
	if err != nil {
		return err
	}
	res := listV2Result{
		Name: rq.bucket, Prefix: lq.encode(lq.prefix), MaxKeys: lq.maxKeys, Delimiter: lq.encode(lq.delimiter),
		EncodingType: q.Get("encoding-type"), IsTruncated: l.truncated, KeyCount: len(l.objects) + len(l.prefixes),
		Contents: l.entries(lq.encode, q.Get("fetch-owner") == "true"), CommonPrefixes: l.commonPrefixes(lq.encode),
	}
	if v := q.Get("start-after"); v != "" {
		res.StartAfter = lq.encode(v)
	}
	if v := q.Get("continuation-token"); v != "" {
		res.ContinuationToken = lq.encode(v)
	}
	if l.truncated {
		res.NextContinuationToken = lq.encode(base64.RawURLEncoding.EncodeToString([]byte(l.last)))
	}
	return s.writeXML(rq, res)
}

// urlEncode is OSS's encoding-type=url: the value URL-encoded.
func urlEncode(v string) string { return strings.ReplaceAll(url.QueryEscape(v), "+", "%20") }

// listing is one page of a listing.
type listing struct {
	keys      []string
	objects   []*object
	prefixes  []string
	truncated bool
	last      string // the last key or prefix in the page
}

// list returns up to lq.maxKeys objects and common prefixes after the
// key after, in byte order. When after is itself a common prefix (as a
// NextMarker can be), the keys it groups are skipped too.
func (s *Server) list(bucketName string, lq listQuery, after string) (listing, *ossError) {
	s.mu.Lock()
	b, err := s.lookupBucket(bucketName)
	if err != nil {
		s.mu.Unlock()
		return listing{}, err
	}
	objects := maps.Clone(b.objects)
	s.mu.Unlock()
	skipGroup := lq.delimiter != "" && isCommonPrefix(after, lq.prefix, lq.delimiter)
	var l listing
	for _, k := range slices.Sorted(maps.Keys(objects)) {
		if k <= after || !strings.HasPrefix(k, lq.prefix) || (skipGroup && strings.HasPrefix(k, after)) {
			continue
		}
		entry, isPrefix := k, false
		if lq.delimiter != "" {
			if i := strings.Index(k[len(lq.prefix):], lq.delimiter); i >= 0 {
				entry, isPrefix = k[:len(lq.prefix)+i+len(lq.delimiter)], true
			}
		}
		if isPrefix && entry == l.last {
			continue
		}
		if len(l.keys)+len(l.prefixes) == lq.maxKeys {
			l.truncated = true
			break
		}
		if isPrefix {
			l.prefixes = append(l.prefixes, entry)
		} else {
			l.keys, l.objects = append(l.keys, k), append(l.objects, objects[k])
		}
		l.last = entry
	}
	return l, nil
}

// isCommonPrefix reports whether s has the shape of a common prefix of a
// listing with prefix and delimiter: the first delimiter after prefix
// ends s.
func isCommonPrefix(s, prefix, delimiter string) bool {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return false
	}
	i := strings.Index(rest, delimiter)
	return i >= 0 && i+len(delimiter) == len(rest)
}

func (l listing) entries(encode func(string) string, withOwner bool) []listEntry {
	out := make([]listEntry, len(l.keys))
	for i, o := range l.objects {
		out[i] = listEntry{
			Key: encode(l.keys[i]), LastModified: xmlTime(o.modified), ETag: o.etag, Type: o.typ,
			Size: o.size, StorageClass: o.class, RestoreInfo: o.restore,
		}
		if withOwner {
			out[i].Owner = &testOwner
		}
	}
	return out
}

func (l listing) commonPrefixes(encode func(string) string) []commonPrefix {
	out := make([]commonPrefix, len(l.prefixes))
	for i, p := range l.prefixes {
		out[i] = commonPrefix{Prefix: encode(p)}
	}
	return out
}
