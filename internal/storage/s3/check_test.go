package s3_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/s3"
	"github.com/ossimport/ossimport/internal/testenv"
)

// TestCheckBucket: HeadBucket tells an existing bucket, a missing one
// and refused keys apart, on a real S3 server.
func TestCheckBucket(t *testing.T) {
	srv := testenv.VersityGW(t)
	cfg := bucketConfig(srv, srv.CreateBucket(t, ""))
	if err := newStore(t, cfg).CheckBucket(t.Context()); err != nil {
		t.Fatalf("existing bucket: %v", err)
	}
	missing := bucketConfig(srv, fmt.Sprintf("missing-%08x", rand.Uint32()))
	if err := newStore(t, missing).CheckBucket(t.Context()); !errors.Is(err, storage.ErrBucketNotExist) {
		t.Fatalf("missing bucket: %v, want ErrBucketNotExist", err)
	}
	cfg.SecretKey = "not-the-secret-Zq81"
	err := newStore(t, cfg).CheckBucket(t.Context())
	if !errors.Is(err, storage.ErrAccessDenied) || strings.Contains(err.Error(), cfg.SecretKey) {
		t.Fatalf("wrong secret: %v, want ErrAccessDenied without the secret", err)
	}
}

// TestCheckKey: S3 allows 1024-byte names and a leading "/", which OSS
// refuses.
func TestCheckKey(t *testing.T) {
	st, err := s3.New(t.Context(), s3.Config{Endpoint: "http://127.0.0.1:1", Bucket: "b", AccessKey: "a", SecretKey: "s"})
	if err != nil {
		t.Fatal(err)
	}
	for _, ok := range []string{strings.Repeat("k", 1024), "/lead", "a\nb"} {
		if err := storage.CheckKey(st, ok); err != nil {
			t.Errorf("%.20q: %v", ok, err)
		}
		if storage.CheckOSSKey(ok) == nil {
			t.Errorf("%.20q passes the OSS rules too, so the case proves nothing", ok)
		}
	}
	for _, bad := range []string{"", strings.Repeat("k", 1025), "bad\xff"} {
		if err := storage.CheckKey(st, bad); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("%.20q: %v, want ErrInvalidKey", bad, err)
		}
	}
}

// tokenLog records the session token header of every request.
type tokenLog struct {
	mu     sync.Mutex
	tokens []string
}

func (l *tokenLog) RoundTrip(r *http.Request) (*http.Response, error) {
	l.mu.Lock()
	l.tokens = append(l.tokens, r.Header.Get("X-Amz-Security-Token"))
	l.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

// TestSessionToken: static keys carry their STS session token.
func TestSessionToken(t *testing.T) {
	srv := testenv.VersityGW(t)
	cfg := bucketConfig(srv, srv.CreateBucket(t, ""))
	var log tokenLog
	cfg.SessionToken, cfg.HTTPClient = "sts-session-token", &http.Client{Transport: &log}
	_ = newStore(t, cfg).CheckBucket(t.Context()) // versitygw may refuse the token; only what is sent matters
	log.mu.Lock()
	defer log.mu.Unlock()
	if len(log.tokens) == 0 || log.tokens[0] != "sts-session-token" {
		t.Fatalf("tokens sent: %q", log.tokens)
	}
}

// TestSharedConfigProfile: empty keys read the AWS shared credentials
// file's profile (AWS_PROFILE), part of the default chain.
func TestSharedConfigProfile(t *testing.T) {
	srv := testenv.VersityGW(t)
	dir := t.TempDir()
	creds := filepath.Join(dir, "credentials")
	body := fmt.Sprintf("[migrate]\naws_access_key_id = %s\naws_secret_access_key = %s\n", srv.AccessKey, srv.SecretKey)
	if err := os.WriteFile(creds, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", creds)
	t.Setenv("AWS_PROFILE", "migrate")
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	cfg := bucketConfig(srv, srv.CreateBucket(t, ""))
	cfg.AccessKey, cfg.SecretKey = "", ""
	if err := newStore(t, cfg).CheckBucket(t.Context()); err != nil {
		t.Fatalf("check with the profile's keys: %v", err)
	}
}
