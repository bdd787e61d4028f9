package bus

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ConnOptions say how to reach NATS.
type ConnOptions struct {
	// URLs is a comma-separated list of nats:// or tls:// URLs (natsUrl).
	// Empty with Server set means Server.ClientURL().
	URLs string
	// Token authenticates against the embedded server; empty with Server
	// set means Server.Token().
	Token string
	// CredsFile is natsCredsFile: a NATS credentials file (JWT + seed) or
	// a file holding a token (such as the embedded server's TokenFile).
	CredsFile string
	// TLSCAFile verifies the server's certificate (natsTlsCaFile).
	TLSCAFile string
	// Name identifies the client in server monitoring, e.g.
	// "ossimport-worker 10.0.0.7".
	Name string
	// Server, if set, connects in-process to an embedded server (no
	// TCP; used by the standalone master).
	Server *Server
	// Timeout bounds connecting and each request-like operation (acks,
	// payload fetches); default 10s.
	Timeout time.Duration
	// Retry keeps trying, with backoff, while no server of URLs can be
	// reached (a cluster restarting); auth and TLS errors fail at once.
	Retry Retry
}

// Bus is a connection to NATS JetStream with ossimport's queues, streams
// and buckets. It is safe for concurrent use.
type Bus struct {
	nc      *nats.Conn
	js      jetstream.JetStream
	timeout time.Duration

	mu   sync.Mutex
	st   *state
	cons map[string]jetstream.Consumer // task consumers by job
	src  *taskSource
}

// Connect connects to NATS: to any of the URLs, and later to any server
// the cluster advertises (discovered servers). The connection then
// reconnects forever, to whichever server is up, with backoff; only the
// first attempt (retried as o.Retry says) can fail, with an error
// wrapping ErrAuth, ErrTLS or ErrUnreachable that says what to check.
func Connect(ctx context.Context, o ConnOptions) (*Bus, error) {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Server != nil && o.URLs == "" {
		o.URLs = o.Server.ClientURL()
	}
	if o.Server != nil && o.Token == "" && o.CredsFile == "" {
		o.Token = o.Server.Token()
	}
	if o.URLs == "" {
		return nil, errors.New("bus: no NATS URL (set natsUrl)")
	}
	opts, err := natsOptions(o)
	if err != nil {
		return nil, err
	}
	timeout := o.Timeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl))
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	opts = append(opts, nats.Timeout(timeout))
	var nc *nats.Conn
	err = o.Retry.do(ctx, "connect to NATS", func(err error) bool { return errors.Is(err, ErrUnreachable) }, func() error {
		c, err := nats.Connect(o.URLs, opts...)
		if err != nil {
			return connectError(o.URLs, err)
		}
		nc = c
		return nil
	})
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc, jetstream.WithDefaultTimeout(o.Timeout))
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("bus: JetStream: %w", err)
	}
	return &Bus{nc: nc, js: js, timeout: o.Timeout, cons: map[string]jetstream.Consumer{}}, nil
}

// natsOptions turns ConnOptions into nats.go options.
func natsOptions(o ConnOptions) ([]nats.Option, error) {
	opts := []nats.Option{
		nats.Name(o.Name),
		nats.MaxReconnects(-1),
		nats.CustomReconnectDelay(reconnectDelay),
		nats.PingInterval(20 * time.Second),
		nats.MaxPingsOutstanding(3),
		// Errors are returned by the calls they affect; the library never logs.
		nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}),
	}
	if o.Server != nil {
		opts = append(opts, nats.InProcessServer(o.Server.ns))
	}
	if o.TLSCAFile != "" {
		opts = append(opts, nats.RootCAs(o.TLSCAFile))
	}
	switch {
	case o.Token != "":
		opts = append(opts, nats.Token(o.Token))
	case o.CredsFile != "":
		opt, err := credsOption(o.CredsFile)
		if err != nil {
			return nil, err
		}
		opts = append(opts, opt)
	}
	return opts, nil
}

// credsOption reads natsCredsFile: a NATS credentials file or a token.
func credsOption(path string) (nats.Option, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("bus: cannot read natsCredsFile: %w", err)
	}
	if strings.Contains(string(data), "-----BEGIN NATS USER JWT-----") {
		return nats.UserCredentials(path), nil
	}
	tok := strings.TrimSpace(string(data))
	if tok == "" {
		return nil, fmt.Errorf("bus: natsCredsFile %s is empty", path)
	}
	return nats.Token(tok), nil
}

// reconnectDelay backs off from 100ms to 5s, with jitter.
func reconnectDelay(attempts int) time.Duration {
	d := 100 * time.Millisecond << min(attempts, 6)
	d = min(d, 5*time.Second)
	return d/2 + rand.N(d/2+1)
}

// Close closes the connection. Messages not yet acknowledged are
// redelivered to other consumers after AckWait.
func (b *Bus) Close() {
	b.nc.Close()
}

// opContext bounds one request-like operation.
func (b *Bus) opContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), b.timeout)
}
