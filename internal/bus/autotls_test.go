package bus

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
)

// The generated CA and server certificate serve TLS that clients verify
// with the CA alone; Ensure keeps them while they cover the hosts and
// replaces only the server certificate when a host is added; the keys
// are private to the owner.
func TestAutoTLS(t *testing.T) {
	a := AutoTLS{Dir: t.TempDir() + "/tls"}
	if a.Ready() {
		t.Fatal("Ready before Ensure")
	}
	must(t, a.Ensure([]string{"10.0.0.1"}))
	if !a.Ready() {
		t.Fatal("not Ready after Ensure")
	}
	for _, f := range []string{a.Key(), a.CAKey()} {
		fi, err := os.Stat(f)
		must(t, err)
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, fi.Mode().Perm())
		}
	}
	ca, _ := os.ReadFile(a.CA())
	cert, _ := os.ReadFile(a.Cert())

	// Again for the same hosts: nothing changes.
	must(t, a.Ensure([]string{"10.0.0.1"}))
	if ca2, _ := os.ReadFile(a.CA()); !bytes.Equal(ca, ca2) {
		t.Error("the CA changed although it was there")
	}
	if cert2, _ := os.ReadFile(a.Cert()); !bytes.Equal(cert, cert2) {
		t.Error("the server certificate changed although it covered the hosts")
	}
	// A host added: a new server certificate from the same CA.
	must(t, a.Ensure([]string{"10.0.0.1", "node2.example"}))
	if ca2, _ := os.ReadFile(a.CA()); !bytes.Equal(ca, ca2) {
		t.Error("the CA changed when a host was added")
	}
	cert2, _ := os.ReadFile(a.Cert())
	if bytes.Equal(cert, cert2) {
		t.Fatal("the server certificate was kept although it does not name the added host")
	}
	c, err := parseCert(cert2)
	must(t, err)
	for _, h := range []string{"10.0.0.1", "node2.example", "127.0.0.1", "localhost"} {
		if err := c.VerifyHostname(h); err != nil {
			t.Errorf("the server certificate does not name %s: %v", h, err)
		}
	}

	// A server with them is reached by a client that trusts the CA only.
	opts := serverOpts(t)
	opts.TLSCert, opts.TLSKey, opts.TLSCAFile = a.Cert(), a.Key(), a.CA()
	srv := startServer(t, opts)
	b, err := Connect(tctx(t), ConnOptions{URLs: srv.ClientURL(), Token: srv.Token(), TLSCAFile: a.CA()})
	must(t, err)
	b.Close()
	if _, err := Connect(tctx(t), ConnOptions{URLs: srv.ClientURL(), Token: srv.Token()}); !errors.Is(err, ErrTLS) {
		t.Errorf("a client without the CA: err = %v, want ErrTLS", err)
	}

	// A damaged CA key is an error naming the fix.
	must(t, os.WriteFile(a.CAKey(), []byte("garbage"), 0o600))
	if err := a.Ensure([]string{"10.0.0.9"}); err == nil || !strings.Contains(err.Error(), "to generate a new CA") {
		t.Errorf("damaged CA key: err = %v", err)
	}
}
