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

// tokenFile is the token's secret file.
func tokenFile(path string) secretFile {
	return secretFile{path: path, what: "NATS token file",
		emptyFix: "delete it to generate a new token (workers then need the new file)"}
}

func readToken(path string) (string, error) { return tokenFile(path).read() }

// createToken writes a new random token (128 bits, base32).
func createToken(path string) (string, error) { return tokenFile(path).create(rand.Text()) }

// secretFile is a file holding one secret (the token, the store key):
// mode 0600, refused when group or others can read it.
type secretFile struct {
	path, what string
	// emptyFix says what to do about an empty file.
	emptyFix string
}

// read reads the file, checking its permissions first; fs.ErrNotExist
// when it is missing.
func (s secretFile) read() (string, error) {
	fi, err := os.Stat(s.path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		return "", fmt.Errorf("bus: %s: %w", s.what, err)
	}
	if perm := fi.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 != 0 {
		return "", fmt.Errorf("bus: %s %s is readable by group or others (mode %#o): run `chmod 600 %s`",
			s.what, s.path, perm, s.path)
	}
	data, err := os.ReadFile(s.path)
	if err != nil {
		return "", fmt.Errorf("bus: %s: %w", s.what, err)
	}
	v := strings.TrimSpace(string(data))
	if v == "" {
		return "", fmt.Errorf("bus: %s %s is empty: %s", s.what, s.path, s.emptyFix)
	}
	return v, nil
}

// create writes value to a new file with mode 0600; fs.ErrExist means
// another process created the file first. The file appears whole (a
// private temporary file hard-linked into place), so a process starting
// at the same moment never reads it empty.
func (s secretFile) create(value string) (string, error) {
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("bus: cannot create the %s's directory: %w", s.what, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(s.path)+".*")
	if err != nil {
		return "", fmt.Errorf("bus: cannot create %s: %w", s.what, err)
	}
	tmp := f.Name()
	defer func() { _ = os.Remove(tmp) }()
	cherr := f.Chmod(0o600)
	_, werr := f.WriteString(value + "\n")
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(cherr, werr, serr, cerr); err != nil {
		return "", fmt.Errorf("bus: cannot write %s %s: %w", s.what, s.path, err)
	}
	if err := os.Link(tmp, s.path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return "", err
		}
		return "", fmt.Errorf("bus: cannot create %s: %w", s.what, err)
	}
	return value, nil
}

// Token returns the token of an embedded server's TokenFile, generating
// it on first use as StartServer would. The console hands it to the
// other servers of an embedded cluster before the first of them starts.
func Token(path string) (string, error) { return loadOrCreateToken(path) }

// SetToken makes path hold token (mode 0600, replaced atomically): a
// server of an embedded cluster takes the token of the host that starts
// the cluster, since routes and clients present one token to every
// server.
func SetToken(path, token string) error {
	token = strings.TrimSpace(token)
	if token == "" || strings.ContainsAny(token, " \t\r\n") {
		return errors.New("bus: the NATS token given is empty or holds spaces")
	}
	if cur, err := readToken(path); err == nil && cur == token {
		return nil
	}
	tmp := path + ".new"
	_ = os.Remove(tmp)
	if _, err := tokenFile(tmp).create(token); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("bus: cannot replace the NATS token file %s: %w", path, err)
	}
	return nil
}
