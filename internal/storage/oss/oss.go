// Package oss is the Alibaba Cloud OSS store, through the OSS Go SDK v2.
// It is registered as type "oss" and serves both as a migration source
// and as the destination.
//
// Every upload, part and full download is checked end to end with the
// CRC-64/ECMA OSS reports in x-oss-hash-crc64ecma, and that CRC is
// returned in the results so the caller can verify it again; a body the
// caller hashes and checks itself (storage.CheckedBody) is not hashed
// again by the SDK, so each byte is hashed once. Signature V4 signs
// every body as UNSIGNED-PAYLOAD: the CRC carries its integrity. Requests are
// signed with OSS signature V4 unless WithSignatureV1 is given; V4 needs
// the region, which is taken from an OSS endpoint name
// (oss-<region>[-internal].aliyuncs.com) or from Spec.Region.
//
// Addressing is virtual-host (<bucket>.<endpoint>/<key>), path style for
// IP endpoints or Spec.PathStyle, and with Spec.CName the endpoint is a
// custom domain bound to the bucket: requests go to <domain>/<key> and
// are still signed for /<bucket>/<key>, as OSS checks them.
//
// Credentials: a static key pair (with Spec.SessionToken for STS keys),
// or, when both keys are empty, the default chain: OSS_ACCESS_KEY_ID,
// OSS_ACCESS_KEY_SECRET and OSS_SESSION_TOKEN, then the RAM role of the
// ECS instance (the SDK's refreshing provider), else anonymous requests.
package oss

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/transport"

	"github.com/ossimport/ossimport/internal/storage"
)

func init() {
	storage.Register("oss", func(ctx context.Context, spec storage.Spec) (storage.Store, error) {
		return New(ctx, spec)
	})
}

// Limits of OSS multipart uploads and copies.
const (
	minPartSize   = 100 << 10
	maxPartSize   = 5 << 30
	maxParts      = 10000
	maxObjectSize = maxParts * maxPartSize // 48.8 TiB
	// maxCopySize is the largest object CopyObject copies in one request.
	maxCopySize = 1 << 30
	// defaultCopyPartSize is the part size of multipart copies.
	defaultCopyPartSize = 64 << 20
)

// Store is an OSS bucket. It is safe for concurrent use.
type Store struct {
	client *oss.Client
	// unchecked is client without the SDK's upload CRC-64, for bodies
	// the caller hashes and checks itself (storage.CheckedBody).
	unchecked *oss.Client
	bucket    string
	region    string
	endpoint  string // the service the endpoint reaches, see serviceID
	account   string // access key id, to tell whether CopyFrom can work
	opts      options
}

var (
	_ storage.Source           = (*Store)(nil)
	_ storage.Destination      = (*Store)(nil)
	_ storage.MultipartWriter  = (*Store)(nil)
	_ storage.ServerSideCopier = (*Store)(nil)
)

// options are the settings Option functions change.
type options struct {
	signV1           bool
	copyThreshold    int64 // objects larger than this are copied in parts
	copyPartSize     int64
	copyConcurrency  int
	retryMaxAttempts int // 0: the SDK's default
}

// Option changes how New sets up a store.
type Option func(*options)

// WithSignatureV1 signs requests with OSS signature V1 (HMAC-SHA1), for
// deployments that do not accept V4. V1 needs no region.
func WithSignatureV1() Option { return func(o *options) { o.signV1 = true } }

// WithCopyThreshold sets the size above which CopyFrom copies in parts
// of partSize bytes (UploadPartCopy) rather than with one CopyObject.
// The defaults are 1 GiB, the CopyObject limit, and 64 MiB.
func WithCopyThreshold(threshold, partSize int64) Option {
	return func(o *options) { o.copyThreshold, o.copyPartSize = threshold, partSize }
}

// WithRetryMaxAttempts sets how many times the SDK tries a request whose
// body it can rewind (default 3). Requests whose body cannot be rewound
// are always tried once.
func WithRetryMaxAttempts(n int) Option { return func(o *options) { o.retryMaxAttempts = n } }

// New opens the bucket spec.Bucket. It sends no request: a missing bucket
// or bad credentials show up on the first operation.
func New(_ context.Context, spec storage.Spec, opts ...Option) (*Store, error) {
	o := options{copyThreshold: maxCopySize, copyPartSize: defaultCopyPartSize, copyConcurrency: 4}
	for _, fn := range opts {
		fn(&o)
	}
	if !bucketNameRE.MatchString(spec.Bucket) {
		return nil, fmt.Errorf("open oss: invalid bucket name %q: 3 to 63 lower-case letters, digits and hyphens, "+
			"starting and ending with a letter or digit (give the bucket name only, without endpoint or path)", spec.Bucket)
	}
	u, err := parseEndpoint(spec.Endpoint)
	if err != nil {
		return nil, err
	}
	region := regionOf(u.Hostname())
	if region == "" {
		region = spec.Region
	}
	if region == "" && spec.Endpoint == "" {
		return nil, fmt.Errorf("open oss bucket %q: set the endpoint, e.g. http://oss-cn-hangzhou.aliyuncs.com", spec.Bucket)
	}
	if spec.CName && spec.Endpoint == "" {
		return nil, fmt.Errorf("open oss bucket %q: custom domain (CNAME) addressing needs the domain bound to the bucket as the endpoint, e.g. https://files.example.com", spec.Bucket)
	}
	if region == "" && !o.signV1 {
		return nil, fmt.Errorf("open oss bucket %q: cannot tell the region from endpoint %q (a custom domain, IP address, "+
			"acceleration or private endpoint names none); set srcRegion/destRegion to the bucket's region "+
			"(the N in oss-N.aliyuncs.com, e.g. cn-hangzhou) for OSS signature V4", spec.Bucket, spec.Endpoint)
	}
	cfg, err := config(spec, region, o)
	if err != nil {
		return nil, err
	}
	if cfg.HttpClient == nil {
		// One connection pool for both clients, keeping as many idle
		// connections as it may open: the SDK's default of 10 is below a
		// worker's objects in flight, and small objects then paid a new
		// connection (TCP and TLS handshakes) each.
		cfg.WithHttpClient(transport.NewHttpClient(&transport.Config{}, func(t *http.Transport) {
			t.MaxIdleConnsPerHost = max(t.MaxConnsPerHost, transport.DefaultMaxIdleConnsPerHost)
		}))
	}
	unchecked := *cfg
	unchecked.WithDisableUploadCRC64Check(true)
	return &Store{
		client: oss.NewClient(cfg, allowAnonymous), unchecked: oss.NewClient(&unchecked, allowAnonymous),
		bucket: spec.Bucket, region: region,
		endpoint: serviceID(u, region), account: spec.AccessKey, opts: o,
	}, nil
}

// config builds the SDK configuration for spec.
func config(spec storage.Spec, region string, o options) (*oss.Config, error) {
	cfg := oss.LoadDefaultConfig().
		WithSignatureVersion(oss.SignatureVersionV4).
		// Without this, Go's transport asks for gzip and silently
		// decompresses objects stored with Content-Encoding: gzip.
		WithDefaultRequestHeaders(map[string]string{"Accept-Encoding": "identity"})
	if o.signV1 {
		cfg.WithSignatureVersion(oss.SignatureVersionV1)
	}
	if region != "" {
		cfg.WithRegion(region)
	}
	if spec.Endpoint != "" {
		cfg.WithEndpoint(spec.Endpoint)
	}
	switch {
	case spec.CName:
		// The domain is bound to the bucket: https://<domain>/<key>.
		// Requests are still signed for the bucket (/bucket/key).
		cfg.WithUseCName(true)
	case spec.PathStyle:
		cfg.WithUsePathStyle(true)
	}
	if spec.HTTPClient != nil {
		cfg.WithHttpClient(spec.HTTPClient)
	}
	if o.retryMaxAttempts > 0 {
		cfg.WithRetryMaxAttempts(o.retryMaxAttempts)
	}
	creds, err := credentialsProvider(spec)
	if err != nil {
		return nil, err
	}
	cfg.WithCredentialsProvider(creds)
	return cfg, nil
}

// parseEndpoint parses an endpoint given with or without a scheme
// ("http://oss-cn-hangzhou.aliyuncs.com", "oss-cn-hangzhou.aliyuncs.com");
// an empty endpoint gives an empty URL.
func parseEndpoint(endpoint string) (*url.URL, error) {
	if endpoint == "" {
		return &url.URL{}, nil
	}
	raw := endpoint
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("open oss: invalid endpoint %q (want e.g. http://oss-cn-hangzhou.aliyuncs.com)", endpoint)
	}
	u.Host = strings.ToLower(u.Host)
	return u, nil
}

// serviceID names the OSS service an endpoint reaches: its host and
// port, with the public and internal endpoints of a region (and no
// endpoint at all, which means the public one) named alike.
func serviceID(u *url.URL, region string) string {
	if u.Host == "" {
		return "oss-" + region + ".aliyuncs.com"
	}
	return strings.Replace(u.Host, "-internal.aliyuncs.com", ".aliyuncs.com", 1)
}

var (
	bucketNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)
	// regionEndpointRE matches OSS region endpoints, optionally with a
	// bucket in front: oss-cn-hangzhou.aliyuncs.com,
	// bucket.oss-cn-hangzhou-internal.aliyuncs.com.
	regionEndpointRE = regexp.MustCompile(`^(?:[a-z0-9-]+\.)?oss-([a-z0-9-]+?)(?:-internal)?\.aliyuncs\.com$`)
	// dualStackEndpointRE matches cn-hangzhou.oss.aliyuncs.com.
	dualStackEndpointRE = regexp.MustCompile(`^([a-z0-9-]+)\.oss\.aliyuncs\.com$`)
)

// regionOf derives the region from an OSS endpoint host, or returns "".
// The global acceleration endpoints name no region.
func regionOf(host string) string {
	if m := regionEndpointRE.FindStringSubmatch(host); m != nil {
		if strings.HasPrefix(m[1], "accelerate") {
			return ""
		}
		return m[1]
	}
	if m := dualStackEndpointRE.FindStringSubmatch(host); m != nil {
		return m[1]
	}
	return ""
}

// String implements storage.Store.
func (s *Store) String() string { return "oss://" + s.bucket }

// Region is the region requests are signed for ("" with signature V1
// and no region known).
func (s *Store) Region() string { return s.region }

// Capabilities implements storage.Store.
func (s *Store) Capabilities() storage.Capabilities {
	return storage.Capabilities{
		CanList:        true,
		CanWrite:       true,
		RangedRead:     true,
		Multipart:      true,
		ServerSideCopy: true,
		DirMarkers:     true,
		MinPartSize:    minPartSize,
		MaxPartSize:    maxPartSize,
		MaxParts:       maxParts,
		MaxObjectSize:  maxObjectSize,
		CRC64:          true,
		ETagIsMD5:      true,
	}
}

// ptr returns a pointer to v, or nil for the zero value (the SDK leaves
// nil fields out of requests).
func ptr(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}
