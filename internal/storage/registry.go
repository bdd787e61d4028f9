package storage

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
)

// Spec says which store to open and how. It is built from job.cfg by the
// engine; backends read the fields that apply to them and ignore the rest.
type Spec struct {
	// Type is the srcType or destType value: local, oss, s3, qiniu, bos,
	// ks3, cos, azure, http, youpai.
	Type string
	// Endpoint is the service endpoint (srcDomain / destDomain), e.g.
	// "http://oss-cn-hangzhou.aliyuncs.com" or "http://127.0.0.1:7070".
	// Empty means the backend's default where it has one.
	Endpoint string
	Region   string
	// Bucket is the bucket (Azure: container). For local stores it is the
	// root directory, an absolute path.
	Bucket    string
	AccessKey string // Azure: account name; UPYUN: operator
	SecretKey string // Azure: account key; UPYUN: operator password
	// SessionToken is the STS security token that goes with temporary
	// AccessKey/SecretKey credentials (OSS, S3 and the S3-compatible
	// stores); empty for long-term keys.
	SessionToken string
	// PathStyle selects path-style addressing (http://host/bucket/key).
	PathStyle bool
	// CName addresses the bucket through a custom domain bound to it
	// (OSS): Endpoint is that domain and requests go to
	// https://<domain>/<key>, with no bucket in the host or path.
	CName bool
	// AppID is the Tencent COS AppID; the COS bucket is "<Bucket>-<AppID>".
	AppID string

	// AllowSymlinks uploads symbolic links to files (local sources only;
	// links to directories are never followed).
	AllowSymlinks bool

	// HTTP URL-list sources: the list file and its 1-based columns.
	HTTPListFile       string
	HTTPPrefixColumn   int
	RelativePathColumn int

	// UPYUN: download through the CDN instead of the storage API.
	DownloadFromCDN bool
	CDNDomain       string

	// Qiniu: "stat" or "head", how object metadata is read.
	GetObjectMetaMode string

	// Checksum is destChecksum, how an S3 destination proves each write:
	// "crc32c" sends the body's CRC-32C for the service to check and
	// compares the one it returns (S3 flexible checksums); "md5" compares
	// ETags with the content MD5; "" or "auto" picks crc32c for Amazon S3
	// over HTTPS, md5 elsewhere.
	Checksum string

	// HTTPClient, when set, is used for every request the backend makes
	// (tests inject fault-injecting transports; the engine sets timeouts).
	HTTPClient *http.Client
}

// Opener opens a store of one type.
type Opener func(ctx context.Context, spec Spec) (Store, error)

var (
	registryMu sync.RWMutex
	registry   = map[string]Opener{}
)

// Register makes a backend available under typ. Backends call it from an
// init function; registering a type twice panics, as it is a programming
// error.
func Register(typ string, open Opener) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[typ]; dup {
		panic("storage: backend " + typ + " registered twice")
	}
	registry[typ] = open
}

// Types lists the registered store types in order.
func Types() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	types := make([]string, 0, len(registry))
	for t := range registry {
		types = append(types, t)
	}
	sort.Strings(types)
	return types
}

// Open opens the store spec.Type names.
func Open(ctx context.Context, spec Spec) (Store, error) {
	registryMu.RLock()
	open, ok := registry[spec.Type]
	registryMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("open store: unknown type %q (known: %s)", spec.Type, strings.Join(Types(), ", "))
	}
	return open(ctx, spec)
}

// OpenSource opens a store and checks that it can be migrated from.
func OpenSource(ctx context.Context, spec Spec) (Source, error) {
	st, err := Open(ctx, spec)
	if err != nil {
		return nil, err
	}
	src, ok := st.(Source)
	if !ok || !st.Capabilities().CanList {
		return nil, fmt.Errorf("open source: %s: %w: %q cannot be used as a source", st, ErrNotSupported, spec.Type)
	}
	return src, nil
}

// OpenDestination opens a store and checks that it can be migrated to.
func OpenDestination(ctx context.Context, spec Spec) (Destination, error) {
	st, err := Open(ctx, spec)
	if err != nil {
		return nil, err
	}
	dst, ok := st.(Destination)
	if !ok || !st.Capabilities().CanWrite {
		return nil, fmt.Errorf("open destination: %s: %w: %q cannot be used as a destination", st, ErrNotSupported, spec.Type)
	}
	return dst, nil
}
