package bus

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// DefaultPort is the embedded server's client port (natsPort).
const DefaultPort = 4222

// ServerOptions configure the embedded NATS server.
type ServerOptions struct {
	// Dir is the JetStream file store, e.g. <workingDir>/nats.
	Dir string
	// TokenFile holds the authentication token: generated (mode 0600) at
	// first start, reused afterwards. Workers read it as natsCredsFile.
	TokenFile string
	// KeyFile holds the key that encrypts the JetStream store at rest
	// (nats-server's store encryption, AES-GCM): generated (mode 0600)
	// at first start, next to TokenFile as StoreKeyFileName when empty.
	// The store cannot be read without it. A store made unencrypted by
	// an earlier version is encrypted as nats-server loads it.
	KeyFile string
	// Host is the listen address: 127.0.0.1 standalone (the default),
	// 0.0.0.0 distributed.
	Host string
	// Port is the client port (natsPort, normally DefaultPort); 0 or
	// negative picks a free port (tests).
	Port int
	// TLSCert and TLSKey (PEM) make TLS mandatory for clients. TLSCAFile,
	// if set, verifies the certificates that clients present.
	TLSCert, TLSKey, TLSCAFile string
	// InProcessOnly listens on no port: only in-process connections
	// (ConnOptions.Server) reach the server.
	InProcessOnly bool
	// Logger receives the server's own log; nil discards it.
	Logger *slog.Logger
	// ReadyTimeout bounds startup, including JetStream recovery
	// (default 30s).
	ReadyTimeout time.Duration
	// Cluster, when set, joins the server to a JetStream cluster of
	// embedded servers (see ClusterOptions); nil runs it alone.
	Cluster *ClusterOptions
}

// Server is a running embedded NATS server with JetStream.
type Server struct {
	ns    *server.Server
	token string
}

// StartServer starts the embedded server and waits until it accepts
// clients. Errors say what to fix: port in use, unwritable directory,
// bad token file, bad TLS files.
func StartServer(opts ServerOptions) (*Server, error) {
	if opts.Dir == "" || opts.TokenFile == "" {
		return nil, errors.New("bus: ServerOptions.Dir and TokenFile are required")
	}
	if err := checkWritableDir(opts.Dir); err != nil {
		return nil, err
	}
	token, err := loadOrCreateToken(opts.TokenFile)
	if err != nil {
		return nil, err
	}
	storeKey, err := loadOrCreateStoreKey(opts.keyFile(), opts.Dir)
	if err != nil {
		return nil, err
	}
	tlsConf, err := serverTLS(opts)
	if err != nil {
		return nil, err
	}
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	if opts.Port <= 0 {
		opts.Port = server.RANDOM_PORT
	} else if !opts.InProcessOnly {
		if err := checkPortFree(opts.Host, opts.Port); err != nil {
			return nil, err
		}
	}
	nopts := &server.Options{
		ServerName: serverName(opts), Host: opts.Host, Port: opts.Port, DontListen: opts.InProcessOnly,
		JetStream: true, StoreDir: opts.Dir, Authorization: token, NoSigs: true,
		JetStreamKey: storeKey, JetStreamCipher: storeCipher,
		TLS: tlsConf != nil, TLSConfig: tlsConf, TLSTimeout: 5,
	}
	if err := applyCluster(nopts, opts, token, tlsConf); err != nil {
		return nil, err
	}
	ns, err := server.NewServer(nopts)
	if err != nil {
		return nil, fmt.Errorf("bus: configure NATS server: %w", err)
	}
	logger := &serverLog{l: opts.Logger}
	ns.SetLoggerV2(logger, false, false, false)
	ns.Start()
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = 30 * time.Second
	}
	if !ns.ReadyForConnections(opts.ReadyTimeout) || !ns.JetStreamEnabled() {
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, fmt.Errorf("bus: NATS server did not start within %s: %s", opts.ReadyTimeout, logger.lastError())
	}
	return &Server{ns: ns, token: token}, nil
}

// ClientURL is the URL clients on this machine connect to
// (nats://127.0.0.1:port, tls:// with TLS).
func (s *Server) ClientURL() string {
	u, err := url.Parse(s.ns.ClientURL())
	if err != nil {
		return s.ns.ClientURL()
	}
	if ip := net.ParseIP(u.Hostname()); u.Hostname() == "" || (ip != nil && ip.IsUnspecified()) {
		u.Host = net.JoinHostPort("127.0.0.1", u.Port())
	}
	return u.String()
}

// Token is the authentication token clients must present.
func (s *Server) Token() string { return s.token }

// Shutdown stops the server and waits until it has stopped; JetStream
// data is flushed to Dir. A server alone (no cluster) stops its
// JetStream first, the same flush: otherwise the server tells every
// pull request still pending, from clients that have left or are about
// to lose it anyway, that it lapses, and waits 50 ms for that news to
// go out, on every `run`'s way out. A cluster member keeps the full
// shutdown, which hands its leaderships to the other nodes first.
func (s *Server) Shutdown() {
	if !s.ns.JetStreamIsClustered() {
		_ = s.ns.ShutdownJetStream()
	}
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}

// checkWritableDir creates dir and proves it writable.
func checkWritableDir(dir string) error {
	fix := "(fix its owner/permissions or set another workingDir)"
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("bus: cannot create NATS store directory %s: %w %s", dir, err, fix)
	}
	f, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		return fmt.Errorf("bus: NATS store directory %s is not writable: %w %s", dir, err, fix)
	}
	name := f.Name()
	_ = f.Close()
	return os.Remove(name)
}

// checkPortFree turns "address in use" into an actionable error before
// the server tries (nats-server only logs it).
func checkPortFree(host string, port int) error {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err == nil {
		return ln.Close()
	}
	if errors.Is(err, syscall.EADDRINUSE) || strings.Contains(err.Error(), "address already in use") ||
		strings.Contains(err.Error(), "Only one usage of each socket address") {
		return fmt.Errorf("bus: natsPort %d is in use by another program (another ossimport installation's service or `run`, or a NATS server; this working directory's own service would have been found by its lock): set natsPort in sys.properties to a free port", port)
	}
	return fmt.Errorf("bus: cannot listen on %s:%d: %w (check natsListen and natsPort)", host, port, err)
}

// serverTLS builds the server's TLS configuration, or nil without TLS.
func serverTLS(o ServerOptions) (*tls.Config, error) {
	if o.TLSCert == "" && o.TLSKey == "" {
		if o.TLSCAFile != "" {
			return nil, errors.New("bus: natsTlsCaFile is set but natsTlsCert and natsTlsKey are not: the embedded server needs both for TLS")
		}
		return nil, nil
	}
	if o.TLSCert == "" || o.TLSKey == "" {
		return nil, errors.New("bus: set natsTlsCert and natsTlsKey together")
	}
	cert, err := tls.LoadX509KeyPair(o.TLSCert, o.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("bus: cannot load natsTlsCert %s / natsTlsKey %s: %w (both must be PEM and the key must match the certificate)",
			o.TLSCert, o.TLSKey, err)
	}
	conf := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if o.TLSCAFile != "" {
		pool, err := loadCAPool(o.TLSCAFile)
		if err != nil {
			return nil, err
		}
		conf.ClientCAs = pool
		conf.ClientAuth = tls.VerifyClientCertIfGiven
	}
	return conf, nil
}

func loadCAPool(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("bus: cannot read natsTlsCaFile: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("bus: natsTlsCaFile %s holds no PEM certificate", path)
	}
	return pool, nil
}

// serverLog adapts nats-server logging to slog and remembers the last
// error, which explains a failed start. It never exits the process.
type serverLog struct {
	l    *slog.Logger
	mu   sync.Mutex
	last string
}

func (s *serverLog) log(level slog.Level, format string, v []any) {
	msg := fmt.Sprintf(format, v...)
	if level >= slog.LevelError {
		s.mu.Lock()
		s.last = msg
		s.mu.Unlock()
	}
	if s.l != nil {
		s.l.Log(context.Background(), level, msg, "component", "nats-server")
	}
}

func (s *serverLog) lastError() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == "" {
		return "no error logged (is the machine overloaded?)"
	}
	return s.last
}

// The server.Logger methods.

func (s *serverLog) Noticef(format string, v ...any) { s.log(slog.LevelInfo, format, v) }
func (s *serverLog) Warnf(format string, v ...any)   { s.log(slog.LevelWarn, format, v) }
func (s *serverLog) Fatalf(format string, v ...any)  { s.log(slog.LevelError, format, v) }
func (s *serverLog) Errorf(format string, v ...any)  { s.log(slog.LevelError, format, v) }
func (s *serverLog) Debugf(format string, v ...any)  { s.log(slog.LevelDebug, format, v) }
func (s *serverLog) Tracef(format string, v ...any)  { s.log(slog.LevelDebug-4, format, v) }
