package bus

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// AutoTLS is the TLS of a distributed deployment that configures no
// certificate (natsAutoTls): a private CA and one server certificate,
// signed by it, for the hosts that run NATS servers (the master's, and
// the three of natsEmbeddedCluster). Its files live in Dir:
//
//	ca.pem      the CA certificate, which every worker verifies servers with
//	ca.key      the CA's private key (0600), on the first host only
//	server.pem  the servers' certificate (server and client use, for routes)
//	server.key  its private key (0600), on the hosts that run a server
type AutoTLS struct{ Dir string }

// Validity of what Ensure generates, and the margin before expiry at
// which a certificate is replaced.
const (
	autoCAValidity     = 10 * 365 * 24 * time.Hour
	autoServerValidity = 2 * 365 * 24 * time.Hour
	autoRenewMargin    = 30 * 24 * time.Hour
)

// CA, CAKey, Cert and Key are the files' paths.
func (a AutoTLS) CA() string    { return filepath.Join(a.Dir, "ca.pem") }
func (a AutoTLS) CAKey() string { return filepath.Join(a.Dir, "ca.key") }
func (a AutoTLS) Cert() string  { return filepath.Join(a.Dir, "server.pem") }
func (a AutoTLS) Key() string   { return filepath.Join(a.Dir, "server.key") }

// Ready reports whether the server's files are there (a host that runs
// a server but did not generate them needs them deployed).
func (a AutoTLS) Ready() bool {
	for _, f := range []string{a.CA(), a.Cert(), a.Key()} {
		if _, err := os.Stat(f); err != nil {
			return false
		}
	}
	return true
}

// Ensure generates what is missing or stale: the CA, unless ca.pem and
// ca.key are there, and the server certificate for hosts (addresses or
// names; 127.0.0.1, ::1 and localhost are always included), unless the
// current one was signed by this CA, covers every host and is valid for
// more than 30 days.
func (a AutoTLS) Ensure(hosts []string) error {
	if err := os.MkdirAll(a.Dir, 0o700); err != nil {
		return fmt.Errorf("bus: create the TLS folder %s: %w", a.Dir, err)
	}
	ca, caKey, err := a.loadCA()
	if errors.Is(err, os.ErrNotExist) {
		ca, caKey, err = a.createCA()
	}
	if err != nil {
		return err
	}
	hosts = append(slices.Clone(hosts), "127.0.0.1", "::1", "localhost")
	if a.serverCovers(ca, hosts) {
		return nil
	}
	return a.createServer(ca, caKey, hosts)
}

// loadCA reads the CA; os.ErrNotExist when either file is missing.
func (a AutoTLS) loadCA() (*x509.Certificate, *ecdsa.PrivateKey, error) {
	certPEM, err := os.ReadFile(a.CA())
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := os.ReadFile(a.CAKey())
	if err != nil {
		return nil, nil, err
	}
	cert, err := parseCert(certPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("bus: %s: %w (delete %s to generate a new CA, then deploy again)", a.CA(), err, a.Dir)
	}
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, nil, fmt.Errorf("bus: %s holds no PEM key (delete %s to generate a new CA, then deploy again)", a.CAKey(), a.Dir)
	}
	key, err := x509.ParseECPrivateKey(block.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("bus: %s: %w (delete %s to generate a new CA, then deploy again)", a.CAKey(), err, a.Dir)
	}
	return cert, key, nil
}

func (a AutoTLS) createCA() (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("bus: generate the CA key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: "ossimport NATS CA", Organization: []string{"ossimport"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(autoCAValidity),
		IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("bus: create the CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	if err := writeKey(a.CAKey(), key); err != nil {
		return nil, nil, err
	}
	if err := writePEM(a.CA(), "CERTIFICATE", der, 0o644); err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

// serverCovers reports whether the server certificate is usable for
// hosts: signed by ca, naming every host, not about to expire, with its
// key beside it.
func (a AutoTLS) serverCovers(ca *x509.Certificate, hosts []string) bool {
	data, err := os.ReadFile(a.Cert())
	if err != nil {
		return false
	}
	if _, err := os.Stat(a.Key()); err != nil {
		return false
	}
	cert, err := parseCert(data)
	if err != nil || time.Until(cert.NotAfter) < autoRenewMargin || cert.CheckSignatureFrom(ca) != nil {
		return false
	}
	for _, h := range hosts {
		if cert.VerifyHostname(h) != nil {
			return false
		}
	}
	return true
}

func (a AutoTLS) createServer(ca *x509.Certificate, caKey *ecdsa.PrivateKey, hosts []string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("bus: generate the server key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: "ossimport NATS server", Organization: []string{"ossimport"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(autoServerValidity),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if !slices.Contains(tmpl.DNSNames, h) {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return fmt.Errorf("bus: create the server certificate: %w", err)
	}
	if err := writeKey(a.Key(), key); err != nil {
		return err
	}
	return writePEM(a.Cert(), "CERTIFICATE", der, 0o644)
}

func parseCert(data []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return big.NewInt(time.Now().UnixNano())
	}
	return n
}

func writeKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return fmt.Errorf("bus: encode the key %s: %w", path, err)
	}
	return writePEM(path, "EC PRIVATE KEY", der, 0o600)
}

// writePEM replaces path atomically with one PEM block.
func writePEM(path, typ string, der []byte, mode os.FileMode) error {
	tmp := path + ".new"
	data := pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return fmt.Errorf("bus: write %s: %w", path, err)
	}
	if err := os.Chmod(tmp, mode); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("bus: write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("bus: write %s: %w", path, err)
	}
	return nil
}
