package deploy

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// HostKeyProblem classifies a HostKeyError.
type HostKeyProblem int

const (
	// HostKeyUnknown: the host has no line in the known_hosts file.
	HostKeyUnknown HostKeyProblem = iota
	// HostKeyMismatch: the host presented a key different from the one on
	// record.
	HostKeyMismatch
	// HostKeyRevoked: the key is marked @revoked.
	HostKeyRevoked
)

// HostKeyError is returned by Dial when the server's host key is refused.
type HostKeyError struct {
	Problem     HostKeyProblem
	Addr        string // host:port dialled
	Fingerprint string // SHA256 fingerprint of the key the server presented
	File        string // known_hosts file
	Line        int    // for HostKeyMismatch: the line holding the old key
	OldKey      string // for HostKeyMismatch: SHA256 fingerprint of the old key
}

func (e *HostKeyError) Error() string {
	switch e.Problem {
	case HostKeyMismatch:
		return fmt.Sprintf("host key mismatch for %s: the server presented %s but line %d of %s has %s; "+
			"possible man-in-the-middle; remove the old line %d of %s if the host was reinstalled",
			e.Addr, e.Fingerprint, e.Line, e.File, e.OldKey, e.Line, e.File)
	case HostKeyRevoked:
		return fmt.Sprintf("host key %s of %s is marked @revoked in %s; refusing to connect",
			e.Fingerprint, e.Addr, e.File)
	default:
		return fmt.Sprintf("unknown host key for %s (%s): the host is not in %s; "+
			"add it to %s (e.g. ssh-keyscan -p PORT HOST >> %s after checking the fingerprint) "+
			"or set sshAcceptUnknownHostKeys=true in conf/sys.properties to accept and record it",
			e.Addr, e.Fingerprint, e.File, e.File, e.File)
	}
}

// knownHostsMu serialises appends to known_hosts files within the process.
var knownHostsMu sync.Mutex

// hostKeyChecker verifies host keys against one known_hosts file.
type hostKeyChecker struct {
	file   string
	accept bool
	cb     ssh.HostKeyCallback // nil when the file does not exist
	err    *HostKeyError       // the last refusal, for Dial to report
}

func newHostKeyChecker(file string, accept bool) (*hostKeyChecker, error) {
	h := &hostKeyChecker{file: file, accept: accept}
	cb, err := knownhosts.New(file)
	switch {
	case err == nil:
		h.cb = cb
	case errors.Is(err, fs.ErrNotExist):
		// No file yet: every host is unknown.
	default:
		return nil, fmt.Errorf("read known_hosts file %s (sshKnownHostsFile): %w", file, err)
	}
	return h, nil
}

// algorithms returns the host key algorithms on record for addr, so that
// the handshake asks for a key type we can verify. nil means "any".
func (h *hostKeyChecker) algorithms(addr string) []string {
	if h.cb == nil {
		return nil
	}
	// Checking a throwaway key makes knownhosts list the keys on record.
	err := h.cb(addr, &net.TCPAddr{IP: net.IPv4zero}, probeKey)
	var ke *knownhosts.KeyError
	if !errors.As(err, &ke) || len(ke.Want) == 0 {
		return nil
	}
	var algos []string
	seen := map[string]bool{}
	add := func(a string) {
		if !seen[a] {
			seen[a] = true
			algos = append(algos, a)
		}
	}
	for _, k := range ke.Want {
		switch t := k.Key.Type(); t {
		case ssh.KeyAlgoRSA:
			add(ssh.KeyAlgoRSASHA512)
			add(ssh.KeyAlgoRSASHA256)
			add(ssh.KeyAlgoRSA)
		default:
			add(t)
		}
	}
	return algos
}

func (h *hostKeyChecker) callback(addr string, remote net.Addr, key ssh.PublicKey) error {
	fp := ssh.FingerprintSHA256(key)
	var err error
	if h.cb != nil {
		err = h.cb(addr, remote, key)
	} else {
		err = &knownhosts.KeyError{}
	}
	if err == nil {
		return nil
	}
	var ke *knownhosts.KeyError
	var re *knownhosts.RevokedError
	switch {
	case errors.As(err, &ke) && len(ke.Want) > 0:
		w := ke.Want[0]
		h.err = &HostKeyError{Problem: HostKeyMismatch, Addr: addr, Fingerprint: fp,
			File: w.Filename, Line: w.Line, OldKey: ssh.FingerprintSHA256(w.Key)}
	case errors.As(err, &ke):
		if h.accept {
			if aerr := appendKnownHost(h.file, addr, key); aerr != nil {
				return aerr
			}
			return nil
		}
		h.err = &HostKeyError{Problem: HostKeyUnknown, Addr: addr, Fingerprint: fp, File: h.file}
	case errors.As(err, &re):
		h.err = &HostKeyError{Problem: HostKeyRevoked, Addr: addr, Fingerprint: fp, File: h.file}
	default:
		return fmt.Errorf("check host key of %s against %s: %w", addr, h.file, err)
	}
	return h.err
}

// appendKnownHost records key for addr at the end of file, creating the
// file (and its directory) when needed.
func appendKnownHost(file, addr string, key ssh.PublicKey) error {
	knownHostsMu.Lock()
	defer knownHostsMu.Unlock()
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return fmt.Errorf("record host key of %s: %w", addr, err)
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("record host key of %s in %s: %w", addr, file, err)
	}
	line := knownhosts.Line([]string{knownhosts.Normalize(addr)}, key) + "\n"
	// Make sure the new line does not get glued to an unterminated last line.
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		if last, err := lastByte(file); err == nil && last != '\n' {
			line = "\n" + line
		}
	}
	if _, err := f.WriteString(line); err != nil {
		_ = f.Close()
		return fmt.Errorf("record host key of %s in %s: %w", addr, file, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("record host key of %s in %s: %w", addr, file, err)
	}
	return nil
}

func lastByte(file string) (byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, st.Size()-1); err != nil {
		return 0, err
	}
	return b[0], nil
}

// probeKey is a fixed public key that is never on record.
var probeKey = func() ssh.PublicKey {
	// An ed25519 public key of 32 zero bytes is valid to parse.
	k, err := ssh.ParsePublicKey(append([]byte{0, 0, 0, 11}, append([]byte("ssh-ed25519"), append([]byte{0, 0, 0, 32}, make([]byte, 32)...)...)...))
	if err != nil {
		panic(err)
	}
	return k
}()
