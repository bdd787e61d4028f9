package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
)

// Azurite's well-known development account (public, documented by Microsoft).
const (
	AzuriteAccount = "devstoreaccount1"
	AzuriteKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// AzureServer is a running Azurite blob service on loopback.
type AzureServer struct {
	Endpoint string // blob endpoint, e.g. "http://127.0.0.1:PORT/devstoreaccount1"
	Account  string
	Key      string // base64 shared key
	Location string // Azurite's data directory
	LogFile  string
}

// AzuritePath returns the pinned azurite-blob launcher, installing Azurite
// with npm first if needed.
func AzuritePath(ctx context.Context) (string, error) {
	v, err := pinnedVersion("AZURITE_VERSION")
	if err != nil {
		return "", err
	}
	want := filepath.Join(CacheDir(), "azurite-"+v, "node_modules", ".bin", "azurite-blob")
	return ensureInstalled(ctx, "azurite "+v, want, "install-azurite.sh")
}

// StartAzurite starts a fresh Azurite blob service on a free 127.0.0.1 port
// with a temporary data dir and returns it with a stop function; see
// Azurite. Install failures wrap ErrUnavailable.
func StartAzurite(ctx context.Context) (*AzureServer, func(), error) {
	bin, err := AzuritePath(ctx)
	if err != nil {
		return nil, nil, err
	}
	work, err := makeWorkDir("azurite")
	if err != nil {
		return nil, nil, err
	}
	loc := filepath.Join(work, "data")
	if err := os.Mkdir(loc, 0o755); err != nil {
		_ = os.RemoveAll(work)
		return nil, nil, err
	}
	logPath := filepath.Join(work, "azurite.log")
	env := childEnv([]string{"AZURITE_"})
	p, port, err := startWithPortRetry(ctx, 3,
		func(port int) (*process, error) {
			return startProcess("azurite", logPath, env, bin,
				"--blobHost", "127.0.0.1", "--blobPort", itoa(port), "--location", loc,
				"--skipApiVersionCheck", "--loose", "--silent",
				"--disableTelemetry", "--disableProductStyleUrl")
		},
		func(ctx context.Context, port int) error {
			return httpCheck(ctx, fmt.Sprintf("http://127.0.0.1:%d/%s?comp=list", port, AzuriteAccount))
		},
		"127.0.0.1")
	if err != nil {
		_ = os.RemoveAll(work)
		return nil, nil, err
	}
	srv := &AzureServer{
		Endpoint: fmt.Sprintf("http://127.0.0.1:%d/%s", port, AzuriteAccount),
		Account:  AzuriteAccount,
		Key:      AzuriteKey,
		Location: loc,
		LogFile:  logPath,
	}
	return srv, stopFunc(p, work), nil
}

// Azurite starts a fresh Azurite blob service (blob only) on a free
// 127.0.0.1 port, stopped in t.Cleanup. The pinned version is installed with
// npm on first use; if that is impossible the test is skipped, or fails if
// CI is set.
func Azurite(t testing.TB) *AzureServer {
	t.Helper()
	srv, stop, err := StartAzurite(context.Background())
	if err != nil {
		skipOrFatal(t, "azurite", err)
	}
	cleanupServer(t, "azurite", srv.LogFile, stop)
	return srv
}

// ConnectionString returns an Azure Storage connection string for the server.
func (a *AzureServer) ConnectionString() string {
	return fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=%s;",
		a.Account, a.Key, a.Endpoint)
}

// Client returns an azblob client authenticated with the account's shared key.
func (a *AzureServer) Client(t testing.TB) *azblob.Client {
	t.Helper()
	cred, err := azblob.NewSharedKeyCredential(a.Account, a.Key)
	if err != nil {
		t.Fatalf("testenv: azurite credential: %v", err)
	}
	c, err := azblob.NewClientWithSharedKeyCredential(a.Endpoint+"/", cred, nil)
	if err != nil {
		t.Fatalf("testenv: azblob client for %s: %v", a.Endpoint, err)
	}
	return c
}

// CreateContainer creates a container (failing the test on error) and
// returns its name; name "" means a unique valid random name.
func (a *AzureServer) CreateContainer(t testing.TB, name string) string {
	t.Helper()
	if name == "" {
		name = "test-" + randomHex(6)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := a.Client(t).CreateContainer(ctx, name, nil); err != nil {
		t.Fatalf("testenv: create container %q on %s: %v", name, a.Endpoint, err)
	}
	return name
}
