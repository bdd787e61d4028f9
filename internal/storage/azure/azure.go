// Package azure reads Azure Blob Storage containers as a migration source
// (srcType=azure).
//
// The job settings map as in ossimport: srcAccessKey is the storage account
// name, srcSecretKey the account key (shared-key authentication), srcBucket
// the container and srcDomain the EndpointSuffix of the account's
// connection string ("core.windows.net" when empty, "core.chinacloudapi.cn"
// for Azure China). The service URL is then
// https://<account>.blob.<suffix>/. A srcDomain that is a whole URL
// ("http://127.0.0.1:10000/devstoreaccount1" for Azurite) is used as the
// service URL as it is, and a pasted connection string is understood too
// (its BlobEndpoint, EndpointSuffix and DefaultEndpointsProtocol parts).
//
// The store is read-only: Azure is never a destination of ossimport.
package azure

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/ossimport/ossimport/internal/storage"
)

// DefaultEndpointSuffix is the EndpointSuffix of Azure's global cloud.
const DefaultEndpointSuffix = "core.windows.net"

func init() {
	storage.Register("azure", func(ctx context.Context, spec storage.Spec) (storage.Store, error) {
		return New(ctx, spec)
	})
}

// Store is one Azure Blob container.
type Store struct {
	account   string
	container string
	// serviceURL ends in "/", e.g. "https://acct.blob.core.windows.net/".
	serviceURL string
	client     *container.Client
}

var _ storage.Source = (*Store)(nil)

// New opens the container spec.Bucket of the account spec.AccessKey with
// the account key spec.SecretKey. It makes no request: a wrong name or key
// shows up on the first listing or read.
func New(_ context.Context, spec storage.Spec) (*Store, error) {
	switch {
	case spec.AccessKey == "":
		return nil, errors.New("open azure source: srcAccessKey is empty: set it to the storage account name")
	case spec.SecretKey == "":
		return nil, errors.New("open azure source: srcSecretKey is empty: set it to the storage account key")
	case spec.Bucket == "":
		return nil, errors.New("open azure source: srcBucket is empty: set it to the container name")
	case strings.Contains(spec.Bucket, "/"):
		return nil, fmt.Errorf("open azure source: srcBucket %q contains \"/\": set it to the container name only and put the path in srcPrefix", spec.Bucket)
	}
	serviceURL, err := ServiceURL(spec.AccessKey, spec.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("open azure source: %w", err)
	}
	cred, err := container.NewSharedKeyCredential(spec.AccessKey, spec.SecretKey)
	if err != nil {
		// The SDK's message is only about base64; never repeat the key.
		return nil, fmt.Errorf("open azure source: %w: srcSecretKey is not a valid account key (it must be the base64 key shown under the storage account's access keys)", storage.ErrAccessDenied)
	}
	var opts container.ClientOptions
	if spec.HTTPClient != nil {
		opts.Transport = spec.HTTPClient
	}
	client, err := container.NewClientWithSharedKeyCredential(serviceURL+spec.Bucket, cred, &opts)
	if err != nil {
		return nil, fmt.Errorf("open azure source %s: %w", serviceURL+spec.Bucket, err)
	}
	return &Store{account: spec.AccessKey, container: spec.Bucket, serviceURL: serviceURL, client: client}, nil
}

// ServiceURL returns the blob service URL, ending in "/", of account for a
// srcDomain value: empty (the global cloud), an EndpointSuffix such as
// "core.chinacloudapi.cn", a full URL (used as it is), or a connection
// string.
func ServiceURL(account, domain string) (string, error) {
	domain = strings.TrimSpace(domain)
	scheme := "https"
	if strings.Contains(domain, "=") {
		parts := parseConnectionString(domain)
		if ep := parts["blobendpoint"]; ep != "" {
			domain = ep
		} else {
			domain = parts["endpointsuffix"]
			if p := parts["defaultendpointsprotocol"]; p != "" {
				scheme = strings.ToLower(p)
			}
		}
	}
	lower := strings.ToLower(domain)
	if strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://") {
		return strings.TrimRight(domain, "/") + "/", nil
	}
	suffix := strings.Trim(domain, "./")
	// Tolerate "blob.core.windows.net" and "acct.blob.core.windows.net".
	suffix = strings.TrimPrefix(suffix, account+".")
	suffix = strings.TrimPrefix(suffix, "blob.")
	if suffix == "" {
		suffix = DefaultEndpointSuffix
	}
	if strings.ContainsAny(suffix, "/ ") {
		return "", fmt.Errorf("srcDomain %q is not an EndpointSuffix (like %q) nor an http(s) URL", domain, DefaultEndpointSuffix)
	}
	return scheme + "://" + account + ".blob." + suffix + "/", nil
}

// parseConnectionString splits "Key=Value;Key=Value" into a map with lower
// case keys.
func parseConnectionString(s string) map[string]string {
	parts := map[string]string{}
	for _, kv := range strings.Split(s, ";") {
		k, v, ok := strings.Cut(kv, "=")
		if ok {
			parts[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
		}
	}
	return parts
}

// String names the container by its URL, e.g.
// "azure:https://acct.blob.core.windows.net/photos".
func (s *Store) String() string { return "azure:" + s.serviceURL + s.container }

// Capabilities reports a read-only, listable store with ranged reads and
// content MD5 where the uploader set one.
func (s *Store) Capabilities() storage.Capabilities {
	return storage.Capabilities{
		CanList:    true,
		RangedRead: true,
		DirMarkers: true,
		// Blobs uploaded in one request have a Content-MD5; blobs
		// uploaded in blocks have one only if the uploader set it, so MD5
		// is not promised for every object.
	}
}
