package oss

import (
	"context"
	"errors"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
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
