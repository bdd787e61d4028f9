package oss

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"

	"github.com/ossimport/ossimport/internal/storage"
)

// countingProvider stands in for the ECS RAM-role provider.
type countingProvider struct {
	cred  credentials.Credentials
	err   error
	calls int
}

func (p *countingProvider) GetCredentials(context.Context) (credentials.Credentials, error) {
	p.calls++
	return p.cred, p.err
}

// TestDefaultChain: environment first, then the ECS RAM role, then
// anonymous; the choice is made once.
func TestDefaultChain(t *testing.T) {
	env := map[string]string{}
	role := &countingProvider{cred: credentials.Credentials{AccessKeyID: "role-id", AccessKeySecret: "role-secret", SecurityToken: "role-token"}}
	chain := &defaultChain{getenv: func(k string) string { return env[k] }, ecs: role}

	env[EnvAccessKeyID], env[EnvAccessKeySecret], env[EnvSessionToken] = "env-id", "env-secret", "env-token"
	c, err := chain.GetCredentials(t.Context())
	if err != nil || c.AccessKeyID != "env-id" || c.SecurityToken != "env-token" || role.calls != 0 {
		t.Fatalf("with the environment set: %+v %v (role asked %d times)", c, err, role.calls)
	}

	clear(env)
	chain = &defaultChain{getenv: func(k string) string { return env[k] }, ecs: role}
	for range 2 {
		if c, err = chain.GetCredentials(t.Context()); err != nil || c.AccessKeyID != "role-id" || c.SecurityToken != "role-token" {
			t.Fatalf("on ECS: %+v %v", c, err)
		}
	}

	off := &countingProvider{err: errors.New("metadata service unreachable")}
	chain = &defaultChain{getenv: func(k string) string { return env[k] }, ecs: off}
	for range 3 {
		if c, err = chain.GetCredentials(t.Context()); err != nil || c.HasKeys() {
			t.Fatalf("off ECS: %+v %v, want anonymous", c, err)
		}
	}
	if off.calls != 1 {
		t.Fatalf("the metadata service was asked %d times, want once", off.calls)
	}
}

// TestAnonymousFallback: with no keys anywhere, requests go out
// unsigned (the server answers them) instead of failing in the SDK's
// signer.
func TestAnonymousFallback(t *testing.T) {
	saved := ecsRoleProvider
	t.Cleanup(func() { ecsRoleProvider = saved })
	off := &countingProvider{err: errors.New("metadata service unreachable")}
	ecsRoleProvider = func() credentials.CredentialsProvider { return off }
	t.Setenv(EnvAccessKeyID, "")
	t.Setenv(EnvAccessKeySecret, "")

	var auth []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = append(auth, r.Header.Get("Authorization"))
		w.Header().Set("Content-Length", "3")
		w.Header().Set("Last-Modified", time.Now().UTC().Format(http.TimeFormat))
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	st, err := New(t.Context(), storage.Spec{Type: "oss", Endpoint: srv.URL, Region: "cn-hangzhou", Bucket: "public-bkt"})
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Stat(t.Context(), "k")
	if err != nil || info.Size != 3 {
		t.Fatalf("anonymous stat: %+v %v", info, err)
	}
	if len(auth) != 1 || auth[0] != "" || off.calls != 1 {
		t.Fatalf("Authorization headers %q (ECS asked %d times), want one unsigned request", auth, off.calls)
	}
}
