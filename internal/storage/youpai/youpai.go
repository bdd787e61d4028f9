// Package youpai reads objects from UPYUN (又拍云) cloud storage, USS,
// through its REST API. It serves srcType=youpai and is a source only: it
// lists, stats and downloads, and never writes.
//
// # Job settings
//
// As in Alibaba's ossimport: srcAccessKey is the operator name,
// srcSecretKey the operator password, srcBucket the service (bucket) name,
// srcDomain the API host (default http://v0.api.upyun.com, which picks a
// route itself; v1, v2 and v3.api.upyun.com are the telecom, unicom and
// mobile routes) and srcPrefix a directory prefix. With isDownloadFromCdn
// the objects are still listed and stat'ed through the API but downloaded
// from cdnDomain + "/" + key, without credentials, because UPYUN throttles
// downloads from the storage API.
//
// # The REST API as documented by UPYUN
//
// Sources: "REST API" (docs.upyun.com/api/rest_api/), "认证授权 / 签名认证"
// (docs.upyun.com/api/authorization/) and "API 错误码表"
// (docs.upyun.com/api/errno/); their Markdown is published in
// github.com/upyun/docs under sources/api/. The official Go SDK
// (github.com/upyun/go-sdk, upyun/rest.go and upyun/utils.go) shows the
// JSON listing format.
//
//   - Every request carries Date (RFC 1123, GMT) and
//     Authorization: UPYUN <operator>:<signature>, where signature is
//     Base64(HMAC-SHA1(key = hex MD5 of the password,
//     Method&URI&Date[&Content-MD5])); empty optional parts are left out
//     together with their '&'. URI is the escaped request path
//     /<bucket>/<path>. A signature is valid for 30 minutes around Date.
//   - GET /<bucket>/<dir>/ lists one directory. Request headers
//     X-List-Limit (at most 10000), X-List-Iter (the cursor from the
//     previous page) and X-List-Order (asc or desc, by time). The response
//     header x-upyun-list-iter holds the next cursor;
//     "g2gCZAAEbmV4dGQAA2VvZg" means there is no further page. The
//     cursor is base64 of an Erlang term ({next, eof} for the end), so it
//     looks stateless, but nothing documents how long it is accepted.
//     Without Accept: application/json the body has one line per entry,
//     "name\ttype\tsize\tmtime" with type N (file) or F (folder); with it
//     the body is {"files":[{"name","type","length","last_modified"}],
//     "iter"} where type is "folder" for folders.
//   - HEAD /<bucket>/<path> answers x-upyun-file-type (file or folder),
//     x-upyun-file-size and x-upyun-file-date (Unix seconds); GET
//     downloads and honours Range. MD5 values are 32 lowercase hex
//     digits, also in Content-MD5.
//   - Errors come with a JSON body {"msg","code","id"}; for example 401
//     40100005 "signature error", 401 40100002 "date offset error", 401
//     40100012 "bucket not exist", 404 40400001 "file or directory not
//     found", 429 42900001 "too many requests", 503 for server faults.
//
// # Listing
//
// UPYUN lists one directory at a time, in its own (time) order, with an
// opaque cursor, which is why Alibaba's tool cannot checkpoint a UPYUN
// listing. List here walks the tree under the prefix depth first and
// returns files only (folders are not objects; with Delimiter "/" the
// folders of the prefix's directory become Prefixes, empty ones
// included). Its token records the walk position: the start directory,
// then per level the folder name, the UPYUN cursor of the page being read,
// how many entries of that page and of the directory were handled, and a
// hash of the handled names. The token stays valid as long as UPYUN
// accepts the cursor later. When UPYUN refuses a cursor, the directory is
// listed again from its start and the handled entries are skipped after
// checking that the same names come first; if the directory changed in
// between, it is walked again from its start, so objects may repeat but
// none are lost. Keys therefore do not come in byte order
// (Capabilities.UnsortedListing).
package youpai

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ossimport/ossimport/internal/storage"
)

// DefaultEndpoint is the UPYUN API host that chooses the route itself.
const DefaultEndpoint = "http://v0.api.upyun.com"

const (
	// maxPageSize is the largest X-List-Limit UPYUN accepts.
	maxPageSize = 10000
	// defaultPageSize is how many entries one directory request asks for.
	defaultPageSize = 1000
	// defaultListLimit is the page size of List when the caller gives none.
	defaultListLimit = 1000
)

func init() {
	storage.Register("youpai", open)
}

var _ storage.Source = (*Store)(nil)

// Store is a UPYUN storage service (bucket) opened for reading.
type Store struct {
	base     string // scheme://host of the API, without a trailing slash
	bucket   string
	operator string
	keyMD5   string   // hex MD5 of the operator password: the HMAC key
	cdn      *url.URL // download host when DownloadFromCDN, else nil
	client   *http.Client
	pageSize int              // X-List-Limit of new listings
	now      func() time.Time // clock for the Date header
}

func open(ctx context.Context, spec storage.Spec) (storage.Store, error) {
	return New(ctx, spec)
}

// New opens the UPYUN service spec.Bucket with the operator
// spec.AccessKey and its password spec.SecretKey. It sends no request.
func New(_ context.Context, spec storage.Spec) (*Store, error) {
	switch {
	case spec.Bucket == "" || strings.ContainsAny(spec.Bucket, "/\\ "):
		return nil, fmt.Errorf("open youpai: srcBucket %q must be a UPYUN service name (no '/', '\\' or spaces)", spec.Bucket)
	case spec.AccessKey == "" || spec.SecretKey == "":
		return nil, fmt.Errorf("open youpai %q: %w: srcAccessKey (operator) and srcSecretKey (operator password) must be set", spec.Bucket, storage.ErrAccessDenied)
	}
	base, err := hostURL(spec.Endpoint, DefaultEndpoint)
	if err != nil {
		return nil, fmt.Errorf("open youpai %q: srcDomain: %w", spec.Bucket, err)
	}
	s := &Store{
		base:     base.String(),
		bucket:   spec.Bucket,
		operator: spec.AccessKey,
		keyMD5:   md5Hex(spec.SecretKey),
		client:   spec.HTTPClient,
		pageSize: defaultPageSize,
		now:      time.Now,
	}
	if s.client == nil {
		s.client = &http.Client{}
	}
	if spec.DownloadFromCDN {
		if spec.CDNDomain == "" {
			return nil, fmt.Errorf("open youpai %q: isDownloadFromCdn is set but cdnDomain is empty", spec.Bucket)
		}
		if s.cdn, err = hostURL(spec.CDNDomain, ""); err != nil {
			return nil, fmt.Errorf("open youpai %q: cdnDomain: %w", spec.Bucket, err)
		}
	}
	return s, nil
}

// hostURL parses an endpoint given as "host", "http://host" or
// "https://host/", defaulting to def when raw is empty.
func hostURL(raw, def string) (*url.URL, error) {
	if raw == "" {
		raw = def
	}
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil {
		return nil, err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an http(s) host", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("%q must be a plain host, without query or user", u.Redacted())
	}
	return u, nil
}

// String names the store, e.g. "youpai://photos".
func (s *Store) String() string {
	if s.cdn != nil {
		return "youpai://" + s.bucket + " (download from " + s.cdn.String() + ")"
	}
	return "youpai://" + s.bucket
}

// Capabilities reports a read-only source with ranged reads and a
// listing that is not in byte order.
func (s *Store) Capabilities() storage.Capabilities {
	return storage.Capabilities{
		CanList:         true,
		RangedRead:      true,
		UnsortedListing: true,
	}
}

// apiRequest builds a signed request for /<bucket>/<key>. A key ending in
// "/" (or empty, the root) names a folder.
func (s *Store) apiRequest(ctx context.Context, method, key string) (*http.Request, error) {
	uri := "/" + storage.EscapePath(s.bucket) + "/" + storage.EscapePath(key)
	req, err := http.NewRequestWithContext(ctx, method, s.base+uri, nil)
	if err != nil {
		return nil, err
	}
	date := s.now().UTC().Format(http.TimeFormat)
	req.Header.Set("Date", date)
	req.Header.Set("Authorization", s.authorization(method, uri, date, ""))
	return req, nil
}

// authorization computes the UPYUN signature header for one request.
func (s *Store) authorization(method, uri, date, contentMD5 string) string {
	msg := method + "&" + uri + "&" + date
	if contentMD5 != "" {
		msg += "&" + contentMD5
	}
	mac := hmac.New(sha1.New, []byte(s.keyMD5))
	mac.Write([]byte(msg))
	return "UPYUN " + s.operator + ":" + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// send runs req; a transport failure is wrapped with op and key.
func (s *Store) send(req *http.Request, op, key string) (*http.Response, error) {
	resp, err := s.client.Do(req)
	if err != nil {
		if ctxErr := req.Context().Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
			err = fmt.Errorf("%w: %w", ctxErr, err)
		}
		return nil, transportError(op, key, err)
	}
	return resp, nil
}
