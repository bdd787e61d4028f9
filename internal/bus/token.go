package bus

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// loadOrCreateToken returns the token stored in path, generating one on
// first use. An existing file readable by group or others is refused.
func loadOrCreateToken(path string) (string, error) {
	for range 2 { // a second round only after losing a creation race
		tok, err := readToken(path)
		if !errors.Is(err, fs.ErrNotExist) {
			return tok, err
		}
		tok, err = createToken(path)
		if !errors.Is(err, fs.ErrExist) {
			return tok, err
		}
	}
	return "", fmt.Errorf("bus: NATS token file %s keeps appearing and disappearing", path)
}

// readToken reads a token file, checking its permissions first.
func readToken(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		return "", fmt.Errorf("bus: NATS token file: %w", err)
	}
	if perm := fi.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 != 0 {
		return "", fmt.Errorf("bus: NATS token file %s is readable by group or others (mode %#o): run `chmod 600 %s`",
			path, perm, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("bus: NATS token file: %w", err)
	}
	tok := strings.TrimSpace(string(data))
	if tok == "" {
		return "", fmt.Errorf("bus: NATS token file %s is empty: delete it to generate a new token (workers then need the new file)", path)
	}
	return tok, nil
}

// createToken writes a new random token with mode 0600; fs.ErrExist
// means another process created the file first.
func createToken(path string) (string, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("bus: cannot create the NATS token file's directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return "", err
		}
		return "", fmt.Errorf("bus: cannot create NATS token file: %w", err)
	}
	tok := rand.Text() // 128 random bits, base32
	_, werr := f.WriteString(tok + "\n")
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(path)
		return "", fmt.Errorf("bus: cannot write NATS token file %s: %w", path, err)
	}
	return tok, nil
}
