package bus

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/nats-io/nats.go"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrNotFound: the key, job or object does not exist.
	ErrNotFound = errors.New("bus: not found")
	// ErrExists: KV.Create found the key already set.
	ErrExists = errors.New("bus: key already exists")
	// ErrJobExists: CreateJob found a job of that name.
	ErrJobExists = errors.New("bus: job already exists, please clean it first")
	// ErrNotSetUp: a method needing the streams was called before Setup.
	ErrNotSetUp = errors.New("bus: Setup has not been called on this connection")
	// ErrAuth: the NATS server refused the token or credentials.
	ErrAuth = errors.New("bus: NATS refused the credentials")
	// ErrTLS: the TLS handshake with the NATS server failed.
	ErrTLS = errors.New("bus: TLS with NATS failed")
	// ErrUnreachable: no NATS server could be reached.
	ErrUnreachable = errors.New("bus: cannot reach the master's NATS")
	// ErrNoMaster: nobody handles control requests (the service is not
	// running).
	ErrNoMaster = errors.New("bus: no ossimport master answered (is the service started? run `console.sh start`)")
	// ErrTooLarge: a key-value entry does not fit in one message even
	// compressed.
	ErrTooLarge = errors.New("bus: value too large")
)

// ControlError is a control handler's error as seen by the requester.
type ControlError struct {
	Verb    string
	Message string
}

// Error reports the verb and the master's message.
func (e *ControlError) Error() string {
	return fmt.Sprintf("master: %s: %s", e.Verb, e.Message)
}

// connectError explains a failed connection to urls and how to fix it.
func connectError(urls string, err error) error {
	switch {
	case errors.Is(err, nats.ErrAuthorization), errors.Is(err, nats.ErrAuthExpired),
		errors.Is(err, nats.ErrAuthRevoked):
		return fmt.Errorf("%w at %s: %v (check natsCredsFile or the master's token file)", ErrAuth, urls, err)
	case isTLSError(err):
		return fmt.Errorf("%w at %s: %v (check natsTlsCaFile and that natsUrl uses tls://)", ErrTLS, urls, err)
	default:
		return fmt.Errorf("%w at %s: %v (check that the master is started and port %s is open)",
			ErrUnreachable, urls, err, urlPort(urls))
	}
}

func isTLSError(err error) bool {
	var verr *tls.CertificateVerificationError
	var uerr x509.UnknownAuthorityError
	var herr x509.HostnameError
	var rerr tls.RecordHeaderError
	switch {
	case errors.As(err, &verr), errors.As(err, &uerr), errors.As(err, &herr), errors.As(err, &rerr),
		errors.Is(err, nats.ErrSecureConnRequired), errors.Is(err, nats.ErrSecureConnWanted):
		return true
	}
	return strings.Contains(err.Error(), "tls:")
}

// urlPort is the port of the first of comma-separated NATS URLs.
func urlPort(urls string) string {
	first, _, _ := strings.Cut(urls, ",")
	first = strings.TrimSpace(first)
	if !strings.Contains(first, "://") {
		first = "nats://" + first
	}
	if u, err := url.Parse(first); err == nil && u.Port() != "" {
		return u.Port()
	}
	return fmt.Sprint(DefaultPort)
}
