package bus

import (
	"bufio"
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
	"strings"
	"testing"
	"time"
)

func TestTokenCreatedAndReused(t *testing.T) {
	opts := serverOpts(t)
	srv, err := StartServer(opts)
	must(t, err)
	tok := srv.Token()
	srv.Shutdown()
	fi, err := os.Stat(opts.TokenFile)
	must(t, err)
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("token file mode %#o, want 0600", perm)
	}
	data, err := os.ReadFile(opts.TokenFile)
	must(t, err)
	if tok == "" || strings.TrimSpace(string(data)) != tok {
		t.Fatalf("token %q, file holds %q", tok, data)
	}
	srv = startServer(t, opts)
	if srv.Token() != tok {
		t.Errorf("token changed across restarts: %q then %q", tok, srv.Token())
	}
}

func TestTokenFileReadableByOthersRefused(t *testing.T) {
	opts := serverOpts(t)
	must(t, os.WriteFile(opts.TokenFile, []byte("secret\n"), 0o644))
	must(t, os.Chmod(opts.TokenFile, 0o644))
	_, err := StartServer(opts)
	t.Log(err)
	if err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("err = %v, want a group/world-readable token file refused", err)
	}
}

func TestConnectWithoutTokenRefused(t *testing.T) {
	srv := startServer(t, serverOpts(t))
	for _, tok := range []string{"", "wrong"} {
		_, err := Connect(tctx(t), ConnOptions{URLs: srv.ClientURL(), Token: tok})
		t.Log(err)
		if !errors.Is(err, ErrAuth) || !strings.Contains(strings.ToLower(err.Error()), "authorization violation") {
			t.Errorf("token %q: err = %v, want ErrAuth", tok, err)
		}
	}
	// The token file itself works as natsCredsFile.
	b, err := Connect(tctx(t), ConnOptions{URLs: srv.ClientURL(), CredsFile: serverOptsTokenFile(t, srv)})
	must(t, err)
	b.Close()
}

// serverOptsTokenFile writes srv's token to a file like the master's.
func serverOptsTokenFile(t *testing.T, srv *Server) string {
	path := filepath.Join(t.TempDir(), "token")
	must(t, os.WriteFile(path, []byte(srv.Token()+"\n"), 0o600))
	return path
}

func TestTLS(t *testing.T) {
	opts := serverOpts(t)
	opts.TLSCert, opts.TLSKey = selfSigned(t)
	srv := startServer(t, opts)
	if !strings.HasPrefix(srv.ClientURL(), "tls://") {
		t.Fatalf("ClientURL %s, want tls://", srv.ClientURL())
	}
	b, err := Connect(tctx(t), ConnOptions{URLs: srv.ClientURL(), Token: srv.Token(), TLSCAFile: opts.TLSCert})
	must(t, err)
	defer b.Close()
	must(t, b.Setup(tctx(t), SetupOptions{}))
	must(t, b.PublishTask(tctx(t), "jobtls", "t1", []byte("x")))

	// A client that does not trust the certificate is refused.
	_, err = Connect(tctx(t), ConnOptions{URLs: srv.ClientURL(), Token: srv.Token()})
	t.Log(err)
	if !errors.Is(err, ErrTLS) {
		t.Errorf("untrusted client: err = %v, want ErrTLS", err)
	}
	assertPlaintextRefused(t, strings.TrimPrefix(srv.ClientURL(), "tls://"), srv.Token())
}

// assertPlaintextRefused speaks the NATS protocol without TLS and
// expects the server to refuse the session.
func assertPlaintextRefused(t *testing.T, addr, token string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, testTimeout)
	must(t, err)
	defer conn.Close()
	must(t, conn.SetDeadline(time.Now().Add(testTimeout)))
	r := bufio.NewReader(conn)
	info, err := r.ReadString('\n')
	must(t, err)
	if !strings.Contains(info, `"tls_required":true`) {
		t.Errorf("INFO does not require TLS: %s", info)
	}
	fmt.Fprintf(conn, "CONNECT {\"auth_token\":%q,\"verbose\":false}\r\nPING\r\n", token)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return // connection closed: refused
		}
		if strings.HasPrefix(line, "PONG") {
			t.Fatal("plaintext client got PONG from a TLS server")
		}
	}
}

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key.
func selfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "ossimport test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
		IsCA:         true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	must(t, err)
	kder, err := x509.MarshalECPrivateKey(key)
	must(t, err)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	must(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	must(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600))
	return certFile, keyFile
}

func TestBadTLSFiles(t *testing.T) {
	opts := serverOpts(t)
	opts.TLSCert = filepath.Join(t.TempDir(), "cert.pem")
	opts.TLSKey = opts.TLSCert
	must(t, os.WriteFile(opts.TLSCert, []byte("not a certificate"), 0o600))
	_, err := StartServer(opts)
	t.Log(err)
	if err == nil || !strings.Contains(err.Error(), "natsTlsCert") {
		t.Fatalf("err = %v, want a natsTlsCert error", err)
	}
}

func TestPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer ln.Close()
	opts := serverOpts(t)
	opts.Port = ln.Addr().(*net.TCPAddr).Port
	_, err = StartServer(opts)
	want := fmt.Sprintf("natsPort %d is in use by another program", opts.Port)
	t.Log(err)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want %q", err, want)
	}
}

func TestUnwritableDir(t *testing.T) {
	opts := serverOpts(t)
	file := filepath.Join(t.TempDir(), "file")
	must(t, os.WriteFile(file, nil, 0o600))
	opts.Dir = filepath.Join(file, "nats")
	_, err := StartServer(opts)
	t.Log(err)
	if err == nil || !strings.Contains(err.Error(), "NATS store directory") {
		t.Fatalf("err = %v, want a store directory error", err)
	}
}

func TestUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	_, err = Connect(tctx(t), ConnOptions{URLs: url, Token: "x"})
	want := fmt.Sprintf("cannot reach the master's NATS at %s", url)
	t.Log(err)
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), want) ||
		!strings.Contains(err.Error(), fmt.Sprintf("port %d is open", port)) {
		t.Fatalf("err = %v, want %q", err, want)
	}
}

func TestInProcess(t *testing.T) {
	opts := serverOpts(t)
	opts.InProcessOnly = true
	srv := startServer(t, opts)
	b, err := Connect(tctx(t), ConnOptions{Server: srv, Name: "standalone"})
	must(t, err)
	defer b.Close()
	must(t, b.Setup(tctx(t), SetupOptions{}))
	must(t, b.PublishTask(tctx(t), "local_test", "t1", []byte("payload")))
	m := next(t, b, "localhost")
	if got := string(mustData(t, m)); m.TaskID != "t1" || got != "payload" {
		t.Fatalf("got task %s %q", m.TaskID, got)
	}
	must(t, m.Ack())
}
