package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Default credentials of the S3 test servers (override with WithCredentials).
const (
	DefaultAccessKey = "ossimport-test-ak"
	DefaultSecretKey = "ossimport-test-secret-key"
	DefaultRegion    = "us-east-1"
)

// S3Server is a running S3-compatible server on loopback.
type S3Server struct {
	Endpoint  string // e.g. "http://127.0.0.1:39123"
	AccessKey string
	SecretKey string
	Region    string // "us-east-1"
	// Root is the server's data directory. For versitygw (posix backend)
	// objects are plain files Root/<bucket>/<key>; for MinIO it is MinIO's
	// own format (xl.meta per object), not plain files.
	Root string
	// LogFile receives the server's stdout and stderr.
	LogFile string
}

// S3Option configures StartVersityGW, StartMinIO, VersityGW and MinIO.
type S3Option func(*s3Config)

type s3Config struct {
	access, secret string
	root           string
	host           string
	region         string
}

// WithRegion makes versitygw serve region (it refuses requests signed for
// another) instead of DefaultRegion; MinIO too (MINIO_REGION).
func WithRegion(region string) S3Option {
	return func(c *s3Config) { c.region = region }
}

// WithCredentials sets the server's root access key and secret key.
func WithCredentials(accessKey, secretKey string) S3Option {
	return func(c *s3Config) { c.access, c.secret = accessKey, secretKey }
}

// WithRoot makes the server use dir (which must exist) as its data directory
// instead of a fresh temporary one. dir is not removed when the server stops.
func WithRoot(dir string) S3Option {
	return func(c *s3Config) { c.root = dir }
}

// WithHost makes versitygw listen on host (an address of this machine,
// e.g. a test bridge's address reachable from network-namespace hosts)
// instead of 127.0.0.1. MinIO ignores it.
func WithHost(host string) S3Option {
	return func(c *s3Config) { c.host = host }
}

func newS3Config(opts []S3Option) s3Config {
	c := s3Config{access: DefaultAccessKey, secret: DefaultSecretKey, host: "127.0.0.1", region: DefaultRegion}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// VersityGWPath returns the pinned versitygw binary, installing it first if
// needed (see the package doc).
func VersityGWPath(ctx context.Context) (string, error) {
	v, err := pinnedVersion("VERSITYGW_VERSION")
	if err != nil {
		return "", err
	}
	want := filepath.Join(CacheDir(), "bin", "versitygw-"+v, "versitygw")
	return ensureInstalled(ctx, "versitygw "+v, want, "install-versitygw.sh")
}

// MinIOPath returns the pinned MinIO binary, installing it first if needed.
func MinIOPath(ctx context.Context) (string, error) {
	v, err := pinnedVersion("MINIO_VERSION")
	if err != nil {
		return "", err
	}
	want := filepath.Join(CacheDir(), "bin", "minio-"+v, "minio")
	return ensureInstalled(ctx, "minio "+v, want, "install-minio.sh")
}

// StartVersityGW starts a fresh versitygw (posix backend) on a free
// 127.0.0.1 port with a temporary root, and returns it with a function that
// stops it and removes its temporary files. Use it from TestMain to share one
// server across a package's tests; tests should prefer VersityGW.
// Install failures wrap ErrUnavailable.
func StartVersityGW(ctx context.Context, opts ...S3Option) (*S3Server, func(), error) {
	bin, err := VersityGWPath(ctx)
	if err != nil {
		return nil, nil, err
	}
	cfg := newS3Config(opts)
	work, err := makeWorkDir("versitygw")
	if err != nil {
		return nil, nil, err
	}
	root := cfg.root
	if root == "" {
		root = filepath.Join(work, "root")
		if err := os.Mkdir(root, 0o755); err != nil {
			_ = os.RemoveAll(work)
			return nil, nil, err
		}
	}
	backendArgs := []string{"posix"}
	if !xattrSupported(root) {
		// e.g. tmpfs without user xattrs: keep metadata in a sidecar dir.
		side := filepath.Join(work, "sidecar")
		if err := os.Mkdir(side, 0o755); err != nil {
			_ = os.RemoveAll(work)
			return nil, nil, err
		}
		backendArgs = append(backendArgs, "--sidecar", side)
	}
	backendArgs = append(backendArgs, root)
	logPath := filepath.Join(work, "versitygw.log")
	env := childEnv([]string{"VGW_", "ROOT_ACCESS_KEY", "ROOT_SECRET", "LOGFILE=", "WEBHOOK="},
		"ROOT_ACCESS_KEY="+cfg.access, "ROOT_SECRET_KEY="+cfg.secret)

	p, port, err := startWithPortRetry(ctx, 3,
		func(port int) (*process, error) {
			args := append([]string{bin, "--port", net.JoinHostPort(cfg.host, itoa(port)), "--region", cfg.region, "--quiet"}, backendArgs...)
			return startProcess("versitygw", logPath, env, args...)
		},
		func(ctx context.Context, port int) error {
			return httpCheck(ctx, "http://"+net.JoinHostPort(cfg.host, itoa(port))+"/")
		},
		cfg.host)
	if err != nil {
		_ = os.RemoveAll(work)
		return nil, nil, err
	}
	srv := newS3Server(port, cfg, root, logPath)
	srv.Endpoint = "http://" + net.JoinHostPort(cfg.host, itoa(port))
	return srv, stopFunc(p, work), nil
}

// VersityGW starts a fresh versitygw on a free 127.0.0.1 port with a temp
// root, stopped in t.Cleanup. It installs the pinned binary once (a
// cross-process file lock keeps parallel test binaries from racing). When it
// cannot be installed the test is skipped, or fails if CI is set.
func VersityGW(t testing.TB, opts ...S3Option) *S3Server {
	t.Helper()
	srv, stop, err := StartVersityGW(context.Background(), opts...)
	if err != nil {
		skipOrFatal(t, "versitygw", err)
	}
	cleanupServer(t, "versitygw", srv.LogFile, stop)
	return srv
}

// StartMinIO starts a fresh MinIO server (single drive) on free 127.0.0.1
// ports with a temporary data dir; see StartVersityGW. Unlike MinIO, it does
// not look at OSSIMPORT_TEST_MINIO.
func StartMinIO(ctx context.Context, opts ...S3Option) (*S3Server, func(), error) {
	bin, err := MinIOPath(ctx)
	if err != nil {
		return nil, nil, err
	}
	cfg := newS3Config(opts)
	if len(cfg.secret) < 8 || len(cfg.access) < 3 {
		return nil, nil, errors.New("minio needs an access key of 3+ and a secret of 8+ characters")
	}
	work, err := makeWorkDir("minio")
	if err != nil {
		return nil, nil, err
	}
	root := cfg.root
	if root == "" {
		root = filepath.Join(work, "data")
		if err := os.Mkdir(root, 0o755); err != nil {
			_ = os.RemoveAll(work)
			return nil, nil, err
		}
	}
	logPath := filepath.Join(work, "minio.log")
	env := childEnv([]string{"MINIO_"},
		"MINIO_ROOT_USER="+cfg.access, "MINIO_ROOT_PASSWORD="+cfg.secret,
		"MINIO_BROWSER=off", "MINIO_UPDATE=off", "MINIO_CI_CD=1", "MINIO_REGION="+cfg.region,
		"HOME="+work) // MinIO keeps client config under $HOME/.minio
	p, port, err := startWithPortRetry(ctx, 3,
		func(port int) (*process, error) {
			console, err := FreePort("127.0.0.1")
			if err != nil {
				return nil, err
			}
			return startProcess("minio", logPath, env, bin, "server", "--quiet",
				"--address", "127.0.0.1:"+itoa(port), "--console-address", "127.0.0.1:"+itoa(console), root)
		},
		func(ctx context.Context, port int) error {
			return httpCheck200(ctx, "http://127.0.0.1:"+itoa(port)+"/minio/health/live")
		},
		"127.0.0.1")
	if err != nil {
		_ = os.RemoveAll(work)
		return nil, nil, err
	}
	return newS3Server(port, cfg, root, logPath), stopFunc(p, work), nil
}

// MinIO starts a fresh MinIO server stopped in t.Cleanup. It skips the test
// unless OSSIMPORT_TEST_MINIO=1 (MinIO takes minutes to build and is only
// for cross-checking behaviour); then it installs the pinned version like
// VersityGW does.
func MinIO(t testing.TB, opts ...S3Option) *S3Server {
	t.Helper()
	if os.Getenv("OSSIMPORT_TEST_MINIO") != "1" {
		t.Skip("testenv: MinIO tests are off; set OSSIMPORT_TEST_MINIO=1 to run them")
	}
	srv, stop, err := StartMinIO(context.Background(), opts...)
	if err != nil {
		skipOrFatal(t, "minio", err)
	}
	cleanupServer(t, "minio", srv.LogFile, stop)
	return srv
}

// cleanupServer registers stop, logging the server log's tail first when the
// test failed.
func cleanupServer(t testing.TB, name, logFile string, stop func()) {
	t.Cleanup(func() {
		if t.Failed() && logFile != "" {
			t.Logf("testenv: last lines of the %s log (%s):\n%s", name, logFile, fileTail(logFile, 30))
		}
		stop()
	})
}

// Client returns an aws-sdk-go-v2 S3 client for this server: path-style
// addressing, static credentials, no shared config or environment lookup.
func (s *S3Server) Client(t testing.TB) *s3.Client {
	return s3.New(s3.Options{
		Region:       s.Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
	})
}

// CreateBucket creates a bucket (failing the test on error) and returns its
// name; name "" means a unique valid random name.
func (s *S3Server) CreateBucket(t testing.TB, name string) string {
	t.Helper()
	if name == "" {
		name = "test-" + randomHex(6)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.Client(t).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("testenv: create bucket %q on %s: %v", name, s.Endpoint, err)
	}
	return name
}

// ObjectPath is where versitygw stores bucket/key: Root/bucket/key.
func (s *S3Server) ObjectPath(bucket, key string) string {
	return filepath.Join(s.Root, bucket, filepath.FromSlash(key))
}

// probeTransport is used for readiness checks: no proxy, no idle connections.
var probeTransport = &http.Transport{Proxy: nil, DisableKeepAlives: true}

// httpCheck succeeds on any HTTP response.
func httpCheck(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := probeTransport.RoundTrip(req)
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	return nil
}

// httpCheck200 succeeds on a 200 response.
func httpCheck200(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := probeTransport.RoundTrip(req)
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

// xattrSupported reports whether dir's filesystem takes user xattrs.
func xattrSupported(dir string) bool {
	f, err := os.CreateTemp(dir, ".xattr-probe-")
	if err != nil {
		return true // let the server report the real problem
	}
	name := f.Name()
	_ = f.Close()
	defer os.Remove(name)
	return syscall.Setxattr(name, "user.ossimport.probe", []byte("1"), 0) == nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// newS3Server describes a server started on 127.0.0.1:port.
func newS3Server(port int, cfg s3Config, root, logPath string) *S3Server {
	return &S3Server{
		Endpoint:  "http://127.0.0.1:" + itoa(port),
		AccessKey: cfg.access,
		SecretKey: cfg.secret,
		Region:    cfg.region,
		Root:      root,
		LogFile:   logPath,
	}
}
