package s3

import (
	"context"
	"sync"

	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyauth "github.com/aws/smithy-go/auth"
	smithyendpoints "github.com/aws/smithy-go/endpoints"
	"github.com/aws/smithy-go/middleware"
)

// cachedEndpoints remembers the SDK's endpoint resolutions. The SDK
// evaluates its rule set twice per request (for the auth scheme and for
// the URL), about a tenth of the client's CPU per small object, while a
// store always asks the same question: its bucket, region and endpoint.
// The per-request parameters (Key, Prefix, CopySource) take no part in the
// rules, so they are left out of the cache key; every other parameter is
// in it.
type cachedEndpoints struct {
	next awss3.EndpointResolverV2
	// direct learns the endpoint of object operations (fastput.go).
	direct *directPut
	mu     sync.Mutex
	m      map[endpointKey]smithyendpoints.Endpoint
}

// maxCachedEndpoints bounds the cache (a store meets one or two keys).
const maxCachedEndpoints = 64

// endpointKey is EndpointParameters without the per-request fields, by
// value.
type endpointKey struct {
	bucket, region, endpoint string
	flags                    [11]int8
}

func newCachedEndpoints(next awss3.EndpointResolverV2) *cachedEndpoints {
	return &cachedEndpoints{next: next, m: map[endpointKey]smithyendpoints.Endpoint{}}
}

// ResolveEndpoint answers from the cache, or asks the SDK's resolver and
// keeps its answer. Each request gets its own copy of the properties: the
// SDK merges its auth scheme's properties into them.
func (c *cachedEndpoints) ResolveEndpoint(ctx context.Context, p awss3.EndpointParameters) (smithyendpoints.Endpoint, error) {
	k := keyOf(p)
	c.mu.Lock()
	e, ok := c.m[k]
	c.mu.Unlock()
	if !ok {
		var err error
		if e, err = c.next.ResolveEndpoint(ctx, p); err != nil {
			return e, err
		}
		c.mu.Lock()
		if len(c.m) < maxCachedEndpoints {
			c.m[k] = cloneEndpoint(e)
		}
		c.mu.Unlock()
	}
	if p.Key != nil {
		c.direct.learn(e)
	}
	return cloneEndpoint(e), nil
}

// cloneEndpoint copies e's properties and auth options, the parts the SDK
// changes; the URL is a value and the headers are only read.
func cloneEndpoint(e smithyendpoints.Endpoint) smithyendpoints.Endpoint {
	var props smithy.Properties
	props.SetAll(&e.Properties)
	if opts, ok := smithyauth.GetAuthOptions(&e.Properties); ok {
		cp := make([]*smithyauth.Option, len(opts))
		for i, o := range opts {
			c := &smithyauth.Option{SchemeID: o.SchemeID}
			c.IdentityProperties.SetAll(&o.IdentityProperties)
			c.SignerProperties.SetAll(&o.SignerProperties)
			cp[i] = c
		}
		smithyauth.SetAuthOptions(&props, cp)
	}
	e.Properties = props
	return e
}

func keyOf(p awss3.EndpointParameters) endpointKey {
	str := func(s *string) string {
		if s == nil {
			return "\x00"
		}
		return *s
	}
	flag := func(b *bool) int8 {
		switch {
		case b == nil:
			return 0
		case *b:
			return 1
		}
		return 2
	}
	return endpointKey{
		bucket: str(p.Bucket), region: str(p.Region), endpoint: str(p.Endpoint),
		flags: [11]int8{flag(p.UseFIPS), flag(p.UseDualStack), flag(p.ForcePathStyle), flag(p.Accelerate),
			flag(p.UseGlobalEndpoint), flag(p.UseObjectLambdaEndpoint), flag(p.DisableAccessPoints),
			flag(p.DisableMultiRegionAccessPoints), flag(p.UseArnRegion), flag(p.UseS3ExpressControlEndpoint),
			flag(p.DisableS3ExpressSessionAuth)},
	}
}

// unneeded are middlewares of every request that do nothing a store needs
// and cost allocations per request: a random invocation ID header (a
// crypto/rand read), the SDK's checksum feature metrics, and the Lambda
// trace header taken from the environment.
var unneeded = []string{"ClientRequestID", "AWSChecksum:RequestMetricsTracking", "RecursionDetection"}

// trimStack removes the unneeded middlewares from a request's stack (one
// an SDK version does not add is not missed).
func trimStack(st *middleware.Stack) error {
	for _, id := range unneeded {
		_, _ = st.Build.Remove(id)
	}
	return nil
}
