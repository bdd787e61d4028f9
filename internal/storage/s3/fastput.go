package s3

import (
	"cmp"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyauth "github.com/aws/smithy-go/auth"
	"github.com/aws/smithy-go/encoding/httpbinding"
	smithyendpoints "github.com/aws/smithy-go/endpoints"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/ossimport/ossimport/internal/storage"
)

// A small PUT whose body cannot be rewound (the copier's streamed body),
// and with Config.TrailingCRC32C every PUT or UploadPart of such a body
// (trailer.go), is sent without the SDK's middleware stack: the SDK builds its stack of
// some 40 middlewares anew for every request, about 430 allocations and
// an eighth of the client's CPU per small object. The request is the
// one the SDK sends (same URL, headers and SigV4 signature with
// UNSIGNED-PAYLOAD, no retries, as the SDK sends such a body), built from
// the endpoint and signing scope the SDK resolved for this store's
// objects (so the first object operation goes through the SDK), and its
// errors are the SDK's types, so wrapErr classifies them alike.

// unsignedPayloadHash is X-Amz-Content-Sha256 for a body not hashed.
const unsignedPayloadHash = "UNSIGNED-PAYLOAD"

// directPutMax is the largest body sent directly without a trailer;
// larger ones go through the SDK, which asks for 100-continue. With a
// trailer every size goes directly, asking for 100-continue above it.
const directPutMax = 2 << 20

// direct is what a direct request needs: the object endpoint and signing
// scope the SDK resolved, or nil until it has.
type direct struct {
	base         url.URL // the bucket's URL; the key is appended
	headers      http.Header
	name, region string // SigV4 signing name and region
	signer       *v4.Signer
	creds        aws.CredentialsProvider
	http         aws.HTTPClient
}

// directPut is set up by New: the endpoint cache hands it the object
// endpoint the SDK resolves.
type directPut struct {
	ready atomic.Pointer[direct]
	off   atomic.Bool // the SDK resolved different object endpoints
	proto direct      // signer, credentials and client, without endpoint
}

// newDirectPut prepares direct PUTs with the client's credentials and
// HTTP client; nil when there are no credentials to sign with.
func newDirectPut(o awss3.Options) *directPut {
	creds := o.Credentials
	switch creds.(type) {
	case nil, aws.AnonymousCredentials:
		return nil
	case *aws.CredentialsCache, credentials.StaticCredentialsProvider:
	default:
		creds = aws.NewCredentialsCache(creds) // the SDK's chain is cached already
	}
	signer := v4.NewSigner(func(so *v4.SignerOptions) { so.DisableURIPathEscaping = true })
	return &directPut{proto: direct{signer: signer, creds: creds, http: o.HTTPClient}}
}

// learn takes the endpoint the SDK resolved for an object operation.
func (d *directPut) learn(e smithyendpoints.Endpoint) {
	if d == nil || d.off.Load() {
		return
	}
	next, ok := d.proto.with(e)
	if cur := d.ready.Load(); !ok || cur != nil && (cur.base != next.base || cur.name != next.name || cur.region != next.region) {
		d.off.Store(true)
		d.ready.Store(nil)
		return
	}
	d.ready.CompareAndSwap(nil, next)
}

// with returns d with endpoint e, when e's auth scheme is plain SigV4.
func (d direct) with(e smithyendpoints.Endpoint) (*direct, bool) {
	opts, _ := smithyauth.GetAuthOptions(&e.Properties)
	for _, o := range opts {
		if o.SchemeID != "sigv4" && o.SchemeID != smithyauth.SchemeIDSigV4 { // the rules' name, the SDK's
			continue
		}
		name, _ := smithyhttp.GetSigV4SigningName(&o.SignerProperties)
		region, _ := smithyhttp.GetSigV4SigningRegion(&o.SignerProperties)
		if name == "" || region == "" || e.URI.Host == "" {
			return nil, false
		}
		d.base, d.headers, d.name, d.region = e.URI, e.Headers, name, region
		return &d, true
	}
	return nil, false
}

// directRequest is one PUT to send without the SDK.
type directRequest struct {
	op    string     // the S3 operation, for errors: PutObject, UploadPart
	key   string     // the object key
	query url.Values // UploadPart's partNumber and uploadId
	// meta are PutObject's object headers; nil for UploadPart.
	meta *storage.Metadata
	body io.Reader
	size int64 // the data bytes in body
	// trailer is set when body is a chunkedBody of size data bytes.
	trailer bool
	// crc32c, when set, is the body's CRC-32C (base64) for the
	// x-amz-checksum-crc32c header (knowncrc.go).
	crc32c string
}

// send sends r and returns the headers of the response, or returns false
// when r cannot be sent directly (yet): no endpoint learnt, or no
// credentials to sign with.
func (d *directPut) send(ctx context.Context, r directRequest) (http.Header, bool, error) {
	if d == nil {
		return nil, false, nil
	}
	c := d.ready.Load()
	if c == nil {
		return nil, false, nil
	}
	creds, err := c.creds.Retrieve(ctx)
	if err != nil || creds.AccessKeyID == "" {
		return nil, false, nil // the SDK's path says why, or signs anonymously
	}
	req, err := c.request(ctx, r)
	if err != nil {
		return nil, true, fmt.Errorf("build request: %w", err)
	}
	if err := c.signer.SignHTTP(ctx, creds, req, req.Header.Get("X-Amz-Content-Sha256"), c.name, c.region, time.Now().UTC()); err != nil {
		return nil, true, fmt.Errorf("sign request: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, true, &smithy.OperationError{ServiceID: "S3", OperationName: r.op, Err: &smithyhttp.RequestSendError{Err: err}}
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, true, &smithy.OperationError{ServiceID: "S3", OperationName: r.op, Err: responseError(resp)}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // so the connection can be reused
	return resp.Header, true, nil
}

// request builds r's unsigned request: the one the SDK would send.
func (c *direct) request(ctx context.Context, r directRequest) (*http.Request, error) {
	u := c.base
	escaped := httpbinding.EscapePath(r.key, false)
	u.Path = smithyhttp.JoinPath(u.Path, "/"+r.key)
	u.RawPath = smithyhttp.JoinPath(cmp.Or(c.base.RawPath, c.base.Path), "/"+escaped)
	if r.query != nil {
		u.RawQuery = r.query.Encode() // the signer re-encodes it canonically
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u.String(), r.body)
	if err != nil {
		return nil, err
	}
	req.URL = &u
	req.ContentLength = r.size
	h := req.Header
	for k := range c.headers {
		h.Set(k, c.headers.Get(k))
	}
	contentEncoding := ""
	if r.meta != nil {
		setMetaHeaders(h, *r.meta)
		contentEncoding = r.meta.ContentEncoding
	}
	h.Set("User-Agent", "ossimport (aws-sdk-go-v2 signer)")
	h.Set("Accept-Encoding", "identity")
	h.Set("X-Amz-Content-Sha256", unsignedPayloadHash)
	setHeader(h, crc32cHeader, r.crc32c)
	if r.trailer {
		req.ContentLength = encodedLength(r.size)
		setTrailerHeaders(h, r.size, contentEncoding)
		h.Set("X-Amz-Content-Sha256", streamingTrailerHash)
		if r.size > directPutMax {
			// As the SDK does for large bodies: an error (a wrong key, a
			// missing bucket) comes back before the body is sent.
			h.Set("Expect", "100-continue")
		}
	}
	return req, nil
}

// setMetaHeaders sets the object headers of PutObject.
func setMetaHeaders(h http.Header, meta storage.Metadata) {
	setHeader(h, "Content-Type", meta.ContentType)
	setHeader(h, "Cache-Control", meta.CacheControl)
	setHeader(h, "Content-Disposition", meta.ContentDisposition)
	setHeader(h, "Content-Encoding", meta.ContentEncoding)
	setHeader(h, "Content-Language", meta.ContentLanguage)
	setHeader(h, "Expires", meta.Expires)
	setHeader(h, "X-Amz-Storage-Class", meta.StorageClass)
	setHeader(h, "X-Amz-Server-Side-Encryption", meta.ServerSideEncryption)
	for k, v := range meta.User {
		h.Set("X-Amz-Meta-"+http.CanonicalHeaderKey(k), v)
	}
}

// responseError is the SDK's error for a response with an error status:
// the S3 error code and message of its XML body, or the status alone.
func responseError(resp *http.Response) error {
	var body struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	_ = xml.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&body)
	code := body.Code
	if code == "" {
		code = http.StatusText(resp.StatusCode)
	}
	return &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: resp},
		Err:      &smithy.GenericAPIError{Code: code, Message: body.Message},
	}
}

func setHeader(h http.Header, name, value string) {
	if value != "" {
		h.Set(name, value)
	}
}
