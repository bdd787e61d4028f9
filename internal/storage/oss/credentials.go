package oss

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/signer"

	"github.com/ossimport/ossimport/internal/storage"
)

// Environment variables of the OSS default credential chain (the names
// the OSS SDKs and ossutil read).
const (
	EnvAccessKeyID     = "OSS_ACCESS_KEY_ID"
	EnvAccessKeySecret = "OSS_ACCESS_KEY_SECRET"
	EnvSessionToken    = "OSS_SESSION_TOKEN"
)

// ecsProbeTimeout bounds the one request that asks the ECS instance
// metadata service for a RAM role; off ECS the address does not answer.
const ecsProbeTimeout = 2 * time.Second

// credentialsProvider picks the credentials of spec: the static key pair
// (with its STS token) when one is given, else the default chain.
func credentialsProvider(spec storage.Spec) (credentials.CredentialsProvider, error) {
	switch {
	case spec.AccessKey != "" && spec.SecretKey != "":
		return credentials.NewStaticCredentialsProvider(spec.AccessKey, spec.SecretKey, spec.SessionToken), nil
	case spec.AccessKey != "" || spec.SecretKey != "":
		return nil, fmt.Errorf("open oss bucket %q: set both the access key id and the secret, or neither "+
			"to use %s/%s or the ECS instance's RAM role", spec.Bucket, EnvAccessKeyID, EnvAccessKeySecret)
	case spec.SessionToken != "":
		return nil, fmt.Errorf("open oss bucket %q: a security token was given without the access key pair it belongs to", spec.Bucket)
	}
	return newDefaultChain(), nil
}

// defaultChain is the OSS default credential chain: the environment
// (OSS_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET, OSS_SESSION_TOKEN), then
// the RAM role of the ECS instance the process runs on (the SDK's
// provider, refreshed before the STS credentials expire), and anonymous
// access when neither is there, so public buckets stay readable.
type defaultChain struct {
	getenv func(string) string
	ecs    credentials.CredentialsProvider // nil: no ECS probe

	mu     sync.Mutex
	chosen credentials.CredentialsProvider // once the chain has decided
}

// ecsRoleProvider returns the ECS RAM-role link of the chain (tests
// replace it: the metadata service is only reachable on ECS).
var ecsRoleProvider = func() credentials.CredentialsProvider {
	return credentials.NewEcsRoleCredentialsProvider(func(o *credentials.EcsRoleCredentialsProviderOptions) {
		o.Timeout, o.Retries = ecsProbeTimeout, 1
	})
}

func newDefaultChain() *defaultChain {
	return &defaultChain{getenv: os.Getenv, ecs: ecsRoleProvider()}
}

// GetCredentials implements credentials.CredentialsProvider.
func (c *defaultChain) GetCredentials(ctx context.Context) (credentials.Credentials, error) {
	c.mu.Lock()
	p := c.chosen
	if p == nil {
		p = c.choose(ctx)
		c.chosen = p
	}
	c.mu.Unlock()
	return p.GetCredentials(ctx)
}

// choose finds the first link of the chain that has credentials.
func (c *defaultChain) choose(ctx context.Context) credentials.CredentialsProvider {
	if id, secret := c.getenv(EnvAccessKeyID), c.getenv(EnvAccessKeySecret); id != "" && secret != "" {
		return credentials.NewStaticCredentialsProvider(id, secret, c.getenv(EnvSessionToken))
	}
	if c.ecs != nil {
		if cred, err := c.ecs.GetCredentials(ctx); err == nil && cred.HasKeys() {
			return c.ecs
		}
	}
	return credentials.NewAnonymousCredentialsProvider()
}

// anonymousSigner leaves a request unsigned when the credentials the
// chain found are empty (anonymous access); the SDK only skips signing
// for its own anonymous provider, and its signers refuse empty keys.
type anonymousSigner struct{ inner signer.Signer }

func (s anonymousSigner) Sign(ctx context.Context, sc *signer.SigningContext) error {
	if sc.Credentials == nil || !sc.Credentials.HasKeys() {
		return nil
	}
	return s.inner.Sign(ctx, sc)
}

// allowAnonymous wraps the client's signer in anonymousSigner.
func allowAnonymous(o *oss.Options) {
	if o.Signer != nil {
		o.Signer = anonymousSigner{inner: o.Signer}
	}
}
