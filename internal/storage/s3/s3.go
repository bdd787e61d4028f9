// Package s3 is the store for Amazon S3 and S3-compatible services, as a
// migration source (srcType=s3) and destination (destType=s3).
//
// It speaks the S3 REST API through aws-sdk-go-v2. The S3-compatible clouds
// ossimport supports (Qiniu, Baidu BOS, Kingsoft KS3, Tencent COS) have small
// packages of their own that turn their ossimport-style settings into a
// Config and call New.
//
// Behaviour worth knowing:
//
//   - By default (destChecksum md5, or auto anywhere but Amazon S3 over
//     HTTPS) request and response checksums are only computed when an
//     operation requires them, so the store works with older S3
//     implementations and with OSS's S3 endpoint. With
//     Config.TrailingCRC32C (destChecksum=crc32c, or auto on Amazon S3
//     over HTTPS) every Put and UploadPart also sends the body's CRC-32C
//     for the service to check, and returns the CRC-32C the service
//     computed (storage.Capabilities.CRC32C): a streamed body carries it
//     as an aws-chunked trailer (trailer.go), a seekable one has the SDK
//     compute it (a header over plain HTTP, a trailer over HTTPS).
//   - With Config.LearnCRC32C (destChecksum=auto elsewhere) a body the
//     caller read whole (storage.KnownCRC32CBody) goes as a plain PUT
//     with its CRC-32C in a header, and the first answer tells whether
//     the service checks it (Capabilities.KnownCRC32C, knowncrc.go).
//   - Requests share one connection pool per store that keeps up to
//     IdleConnsPerHost idle connections (the SDK keeps 10), endpoint
//     resolutions are cached per store (endpoint.go), and middlewares no
//     store needs (invocation ID, checksum metrics, Lambda tracing) are
//     left out: per small object, these were a fifth of the client's CPU.
//   - Listing tokens are the last key (or rolled-up prefix) of a page, passed
//     back as ListObjectsV2's StartAfter, so they never expire and can be
//     checkpointed.
//   - A body that is not an io.ReadSeeker is sent as UNSIGNED-PAYLOAD (the
//     SDK cannot hash a stream it cannot rewind), or with TrailingCRC32C
//     as STREAMING-UNSIGNED-PAYLOAD-TRAILER, and without SDK retries;
//     the error goes back to the caller, which reopens its source. Over
//     HTTPS every body goes unsigned; over plain HTTP seekable bodies are
//     hashed and signed.
//   - Listings mark archived objects (GLACIER, DEEP_ARCHIVE, ARCHIVE...)
//     with Restore. Only Amazon reports restores in listings; elsewhere a
//     restored object still looks archived there, and Stat (x-amz-restore)
//     is authoritative.
//   - When Config.AccessKey is empty, credentials come from the SDK's
//     default chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/
//     AWS_SESSION_TOKEN, the shared config and credentials files
//     (AWS_PROFILE), web identity (AWS_WEB_IDENTITY_TOKEN_FILE and
//     AWS_ROLE_ARN), ECS container and EC2 instance roles (IMDS).
//     Static keys may carry an STS session token (Config.SessionToken).
package s3

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ossimport/ossimport/internal/storage"
)

// Size limits of the S3 API.
const (
	mib = 1 << 20
	gib = 1 << 30

	// MinPartSize is the smallest multipart part but the last.
	MinPartSize = 5 * mib
	// MaxPartSize is the largest multipart part, and the largest object
	// CopyObject copies in one request.
	MaxPartSize = 5 * gib
	// MaxParts is the most parts a multipart upload may have.
	MaxParts = 10000
	// MaxObjectSize is the largest object S3 stores.
	MaxObjectSize = 5 * 1024 * gib

	// DefaultRegion signs requests when no region is given or derived.
	DefaultRegion = "us-east-1"

	defaultCopyPartSize = 512 * mib
	defaultListLimit    = 1000
)

// Config says how to reach one bucket. The zero value of every optional
// field picks the S3 default.
type Config struct {
	// Name is the scheme String uses, "s3" when empty; the S3-compatible
	// providers set their own ("cos", "bos", ...).
	Name string
	// Endpoint is the service URL, e.g. "https://s3.us-west-2.amazonaws.com"
	// or "http://127.0.0.1:7070". Without a scheme, https is assumed.
	// Empty means AWS, resolved from Region.
	Endpoint string
	// Region signs requests. Empty means the region named in an AWS
	// endpoint's host name, else DefaultRegion.
	Region string
	Bucket string
	// AccessKey and SecretKey are static credentials. An empty AccessKey
	// selects the SDK's default credential chain.
	AccessKey string
	SecretKey string
	// SessionToken goes with temporary (STS) AccessKey/SecretKey
	// credentials.
	SessionToken string
	// PathStyle addresses the bucket in the path (http://host/bucket/key)
	// instead of the host name. It is implied for IP and localhost
	// endpoints.
	PathStyle bool
	// HTTPClient, when set, makes every request.
	HTTPClient *http.Client

	// StripLeadingSlash makes keys and prefixes starting with "/" refer to
	// the object without it (COS keys in ossimport are written "/dir/a").
	// Listings under such a prefix give the "/" back, so keys always start
	// with the prefix asked for.
	StripLeadingSlash bool
	// ETagNotMD5 is set for services whose ETags are not content MD5s
	// even for single-part uploads.
	ETagNotMD5 bool

	// CopyThreshold is the largest object CopyFrom copies with one
	// CopyObject request; larger ones are copied in parts with
	// UploadPartCopy. Zero means MaxPartSize. Tests lower it.
	CopyThreshold int64
	// CopyPartSize is the part size of a copy in parts, raised when needed
	// to stay within MaxParts. Zero means 512 MiB.
	CopyPartSize int64

	// TrailingCRC32C makes every Put and UploadPart send the body's
	// CRC-32C (x-amz-checksum-crc32c) for the service to check, which
	// answers BadDigest when the bytes it received differ, and return the
	// CRC-32C the service reports in PutResult or Part. A body that is not
	// an io.ReadSeeker is hashed as it streams and the checksum goes in an
	// aws-chunked trailer (STREAMING-UNSIGNED-PAYLOAD-TRAILER), so the
	// caller need not compute an MD5 to compare with the ETag. The service
	// must support flexible checksums (Amazon S3 does; ConfigFromSpec
	// enables it there by default). Sets Capabilities.CRC32C.
	TrailingCRC32C bool
	// LearnCRC32C makes a Put of a storage.KnownCRC32CBody send the
	// body's CRC-32C in the x-amz-checksum-crc32c header, which a service
	// that supports S3 checksums checks and returns, and any other
	// ignores; the first answer settles Capabilities.KnownCRC32C
	// (knowncrc.go). ConfigFromSpec sets it for destChecksum=auto where
	// it does not set TrailingCRC32C.
	LearnCRC32C bool
}

// Store is one bucket of an S3-compatible service.
type Store struct {
	client *awss3.Client
	// direct sends small streamed PUTs without the SDK (fastput.go).
	direct *directPut
	cfg    Config
	// service identifies the endpoint and credentials, so CopyFrom can
	// tell whether a source is reachable with this store's credentials.
	service string
	// aws is set when the endpoint is Amazon's, which alone understands
	// optional listing attributes.
	aws bool
	// tls is set for https endpoints, whose request bodies need no signed
	// hash.
	tls bool
	// flipCRC32C is xored into the trailing CRC-32C of streamed bodies
	// (tests make the service refuse it); zero in use.
	flipCRC32C uint32
	// knownCRC32C is Capabilities.KnownCRC32C, a storage.Support: what
	// LearnCRC32C has learnt so far (knowncrc.go).
	knownCRC32C atomic.Int32
}

var (
	_ storage.Source           = (*Store)(nil)
	_ storage.Destination      = (*Store)(nil)
	_ storage.MultipartWriter  = (*Store)(nil)
	_ storage.ServerSideCopier = (*Store)(nil)
)

func init() {
	storage.Register("s3", open)
}

// open is the storage.Opener for srcType/destType "s3".
func open(ctx context.Context, spec storage.Spec) (storage.Store, error) {
	return New(ctx, ConfigFromSpec(spec))
}

// Opener returns the storage.Opener of an S3-compatible provider whose
// settings config turns into a Config (the qiniu, bos, ks3 and cos
// packages register theirs with it).
func Opener(config func(storage.Spec) (Config, error)) storage.Opener {
	return func(ctx context.Context, spec storage.Spec) (storage.Store, error) {
		cfg, err := config(spec)
		if err != nil {
			return nil, err
		}
		return New(ctx, cfg)
	}
}

// ConfigFromSpec copies the fields of spec that apply to S3.
func ConfigFromSpec(spec storage.Spec) Config {
	return Config{
		Endpoint:       spec.Endpoint,
		Region:         spec.Region,
		Bucket:         spec.Bucket,
		AccessKey:      spec.AccessKey,
		SecretKey:      spec.SecretKey,
		SessionToken:   spec.SessionToken,
		PathStyle:      spec.PathStyle,
		HTTPClient:     spec.HTTPClient,
		TrailingCRC32C: trailingCRC32C(spec.Checksum, spec.Endpoint),
		LearnCRC32C:    learnCRC32C(spec.Checksum, spec.Endpoint),
	}
}

// trailingCRC32C reads destChecksum: "crc32c" and "md5" say what to do;
// "" and "auto" pick crc32c only for Amazon S3 over HTTPS, the one
// service known to check trailing checksums (others may ignore or refuse
// them, and over plain HTTP the SDK cannot send a seekable body's
// checksum as a trailer). Any other value keeps MD5, the behaviour of
// before destChecksum.
func trailingCRC32C(checksum, endpoint string) bool {
	switch strings.ToLower(strings.TrimSpace(checksum)) {
	case "crc32c":
		return true
	case "", "auto":
		endpoint, host, err := normalizeEndpoint(endpoint)
		return err == nil && isAWS(endpoint, host) && isTLS(endpoint)
	}
	return false
}

// isAWS reports whether a normalized endpoint (empty for the default)
// with host name host is Amazon's.
func isAWS(endpoint, host string) bool {
	return endpoint == "" || strings.HasSuffix(host, ".amazonaws.com") || strings.HasSuffix(host, ".amazonaws.com.cn")
}

// isTLS reports whether a normalized endpoint (empty for the default) is
// reached over HTTPS.
func isTLS(endpoint string) bool {
	return endpoint == "" || strings.HasPrefix(strings.ToLower(endpoint), "https://")
}

// New returns the store for cfg.Bucket. It does not contact the service;
// a wrong endpoint, credential or bucket shows up on the first request.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Name == "" {
		cfg.Name = "s3"
	}
	if cfg.Bucket == "" {
		return nil, fmt.Errorf("open %s store: the bucket name is empty", cfg.Name)
	}
	endpoint, host, err := normalizeEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("open %s store: %w", cfg.Name, err)
	}
	cfg.Endpoint = endpoint
	if cfg.Region == "" {
		cfg.Region = regionFromAWSHost(host)
	}
	if isLocalHost(host) {
		cfg.PathStyle = true
	}
	awsCfg, err := loadAWSConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open %s store: %w", cfg.Name, err)
	}
	endpoints := newCachedEndpoints(awss3.NewDefaultEndpointResolverV2())
	client := awss3.NewFromConfig(awsCfg, func(o *awss3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		o.EndpointResolverV2 = endpoints
		o.APIOptions = append(o.APIOptions, trimStack)
	})
	endpoints.direct = newDirectPut(client.Options())
	s := &Store{
		client:  client,
		direct:  endpoints.direct,
		cfg:     cfg,
		service: endpoint + "|" + cfg.Region + "|" + cfg.AccessKey,
		aws:     isAWS(endpoint, host),
		tls:     isTLS(endpoint),
	}
	if cfg.LearnCRC32C && !cfg.TrailingCRC32C {
		s.knownCRC32C.Store(int32(storage.Unknown))
	}
	return s, nil
}

// loadAWSConfig builds the SDK configuration. Static credentials skip the
// SDK's config loading entirely, so no shared config or credentials file is
// read.
func loadAWSConfig(ctx context.Context, cfg Config) (aws.Config, error) {
	retryer := func() aws.Retryer {
		// No client-side retry quota: under heavy throttling it fails
		// requests that the engine would rather have retried.
		return retry.NewStandard(func(o *retry.StandardOptions) { o.RateLimiter = ratelimit.None })
	}
	if cfg.AccessKey != "" {
		awsCfg := aws.Config{
			Region:      cfg.Region,
			Credentials: credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, cfg.SessionToken),
			Retryer:     retryer,
		}
		awsCfg.HTTPClient = httpClient(cfg)
		return awsCfg, nil
	}
	opts := []func(*config.LoadOptions) error{
		config.WithRegion(cfg.Region),
		config.WithRetryer(retryer),
		config.WithHTTPClient(httpClient(cfg)),
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load default AWS configuration: %w", err)
	}
	return awsCfg, nil
}

// IdleConnsPerHost is how many idle connections to one endpoint a store
// keeps for reuse. The SDK's default (10) is below the objects and parts a
// worker has in flight (workerTaskThreadNum, 60 by default), so with small
// objects most requests closed their connection and dialled a new one: a
// TCP (and TLS) handshake per object, and sockets piling up in TIME_WAIT.
const IdleConnsPerHost = 256

// httpClient is cfg.HTTPClient, or the SDK's client with a connection pool
// as large as the requests a worker has in flight.
func httpClient(cfg Config) aws.HTTPClient {
	if cfg.HTTPClient != nil {
		return cfg.HTTPClient
	}
	return awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns = 0 // no limit across hosts; IdleConnsPerHost bounds each
		t.MaxIdleConnsPerHost = IdleConnsPerHost
	})
}

// normalizeEndpoint adds https:// to an endpoint without a scheme and
// returns it with its host name (without port).
func normalizeEndpoint(endpoint string) (string, string, error) {
	endpoint = strings.TrimRight(strings.TrimSpace(endpoint), "/")
	if endpoint == "" {
		return "", "", nil
	}
	if !strings.Contains(endpoint, "://") {
		endpoint = "https://" + endpoint
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", "", fmt.Errorf("endpoint %q is not an http or https URL", endpoint)
	}
	return endpoint, strings.ToLower(u.Hostname()), nil
}

// HostOf returns the lower-case host name (without port) of an endpoint
// given with or without a scheme, or "" when it cannot be parsed.
func HostOf(endpoint string) string {
	_, host, err := normalizeEndpoint(endpoint)
	if err != nil {
		return ""
	}
	return host
}

// IsLocalEndpoint reports whether endpoint names an IP address or
// localhost: a test or private server to be used as given.
func IsLocalEndpoint(endpoint string) bool {
	return isLocalHost(HostOf(endpoint))
}

func isLocalHost(host string) bool {
	return host == "localhost" || strings.HasSuffix(host, ".localhost") || net.ParseIP(host) != nil
}

// regionFromAWSHost reads the region out of AWS endpoint names such as
// s3.eu-west-1.amazonaws.com, s3-eu-west-1.amazonaws.com,
// s3.dualstack.eu-west-1.amazonaws.com and s3.cn-north-1.amazonaws.com.cn;
// anything else gives DefaultRegion.
func regionFromAWSHost(host string) string {
	rest, ok := strings.CutSuffix(host, ".amazonaws.com")
	if !ok {
		rest, ok = strings.CutSuffix(host, ".amazonaws.com.cn")
	}
	if !ok {
		return DefaultRegion
	}
	labels := strings.Split(rest, ".")
	last := labels[len(labels)-1]
	switch {
	case last == "s3-external-1" || last == "s3-accelerate":
		return DefaultRegion
	case strings.HasPrefix(last, "s3-"):
		return strings.TrimPrefix(last, "s3-")
	case len(labels) >= 2 && last != "s3" && last != "dualstack":
		return last
	}
	return DefaultRegion
}

// Capabilities reports what an S3 bucket can do.
func (s *Store) Capabilities() storage.Capabilities {
	return storage.Capabilities{
		CanList:        true,
		CanWrite:       true,
		RangedRead:     true,
		Multipart:      true,
		ServerSideCopy: true,
		DirMarkers:     true,
		MinPartSize:    MinPartSize,
		MaxPartSize:    MaxPartSize,
		MaxParts:       MaxParts,
		MaxObjectSize:  MaxObjectSize,
		ETagIsMD5:      !s.cfg.ETagNotMD5,
		CRC32C:         s.cfg.TrailingCRC32C,
		KnownCRC32C:    storage.Support(s.knownCRC32C.Load()),
	}
}

// String names the bucket, e.g. "s3://bucket" or
// "cos://bucket-1250000000 (cos.ap-guangzhou.myqcloud.com)".
func (s *Store) String() string {
	name := s.cfg.Name + "://" + s.cfg.Bucket
	if host := HostOf(s.cfg.Endpoint); host != "" {
		if u, err := url.Parse(s.cfg.Endpoint); err == nil {
			host = u.Host
		}
		name += " (" + host + ")"
	}
	return name
}

// key maps a caller's key to the object key.
func (s *Store) key(k string) string {
	if s.cfg.StripLeadingSlash {
		return strings.TrimPrefix(k, "/")
	}
	return k
}
