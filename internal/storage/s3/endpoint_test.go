package s3

import (
	"reflect"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	smithyauth "github.com/aws/smithy-go/auth"
)

// TestEndpointCacheKeyCoversEveryParameter: the cache key holds every
// endpoint parameter but the per-request Key, Prefix and CopySource, so
// an SDK update that adds one fails here rather than sharing answers
// across different questions.
func TestEndpointCacheKeyCoversEveryParameter(t *testing.T) {
	var names []string
	typ := reflect.TypeFor[awss3.EndpointParameters]()
	for i := range typ.NumField() {
		names = append(names, typ.Field(i).Name)
	}
	want := []string{"Accelerate", "Bucket", "CopySource", "DisableAccessPoints", "DisableMultiRegionAccessPoints",
		"DisableS3ExpressSessionAuth", "Endpoint", "ForcePathStyle", "Key", "Prefix", "Region", "UseArnRegion",
		"UseDualStack", "UseFIPS", "UseGlobalEndpoint", "UseObjectLambdaEndpoint", "UseS3ExpressControlEndpoint"}
	slices.Sort(names)
	if !slices.Equal(names, want) {
		t.Fatalf("EndpointParameters has fields %v; keyOf knows %v: update it", names, want)
	}
	p := awss3.EndpointParameters{Bucket: aws.String("b"), Region: aws.String("us-east-1"), Endpoint: aws.String("http://127.0.0.1:9000"), ForcePathStyle: aws.Bool(true)}
	q := p
	q.Key, q.Prefix, q.CopySource = aws.String("k"), aws.String("p"), aws.String("b/k")
	if keyOf(p) != keyOf(q) {
		t.Error("the per-request parameters changed the key")
	}
	q = p
	q.UseDualStack = aws.Bool(false)
	if keyOf(p) == keyOf(q) {
		t.Error("a flag set false has the key of a flag not set")
	}
}

// TestCachedEndpointsAnswerLikeTheSDK: a cached answer has the SDK's URL
// and auth options, and each answer's auth options are its own (the SDK
// writes into them per request).
func TestCachedEndpointsAnswerLikeTheSDK(t *testing.T) {
	sdk := awss3.NewDefaultEndpointResolverV2()
	c := newCachedEndpoints(sdk)
	p := awss3.EndpointParameters{Bucket: aws.String("b"), Region: aws.String("eu-west-1"), Endpoint: aws.String("http://127.0.0.1:9000"), ForcePathStyle: aws.Bool(true)}
	want, err := sdk.ResolveEndpoint(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	first, err := c.ResolveEndpoint(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	p.Key = aws.String("some/key")
	second, err := c.ResolveEndpoint(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.m) != 1 {
		t.Fatalf("%d cache entries, want 1", len(c.m))
	}
	for _, got := range []any{first.URI.String(), second.URI.String()} {
		if got != want.URI.String() {
			t.Errorf("URL %v, want %v", got, want.URI.String())
		}
	}
	o1, ok1 := smithyauth.GetAuthOptions(&first.Properties)
	o2, ok2 := smithyauth.GetAuthOptions(&second.Properties)
	ow, _ := smithyauth.GetAuthOptions(&want.Properties)
	if !ok1 || !ok2 || len(o1) != len(ow) || len(o2) != len(ow) || len(ow) == 0 {
		t.Fatalf("auth options %v %v, want %v", o1, o2, ow)
	}
	o1[0].SignerProperties.Set("probe", 1)
	if o2[0].SignerProperties.Has("probe") {
		t.Error("two answers share their auth options")
	}
	if got, want := o2[0].SignerProperties.Values(), ow[0].SignerProperties.Values(); !reflect.DeepEqual(got, want) {
		t.Errorf("signer properties %v, want %v", got, want)
	}
}
