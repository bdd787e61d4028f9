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

	"github.com/nats-io/nats-server/v2/server"
)

// StoreKeyFileName is the name of the embedded server's store key,
// generated next to ServerOptions.TokenFile when ServerOptions.KeyFile
// is not set.
const StoreKeyFileName = "store.key"

// storeCipher encrypts the JetStream file store at rest. AES-GCM is
// hardware-accelerated on the machines ossimport runs on.
const storeCipher = server.AES

// keyFile returns the store key's path for o.
func (o ServerOptions) keyFile() string {
	if o.KeyFile != "" {
		return o.KeyFile
	}
	return filepath.Join(filepath.Dir(o.TokenFile), StoreKeyFileName)
}

// loadOrCreateStoreKey returns the key that encrypts the JetStream store
// in dir, kept in path (mode 0600). A missing key is generated, unless
// dir already holds an encrypted store: a new key could not read it, and
// nats-server would fail with an obscure error. An unencrypted store
// (made before encryption was added) is encrypted by nats-server as its
// files are loaded with the new key.
func loadOrCreateStoreKey(path, dir string) (string, error) {
	for range 2 { // a second round only after losing a creation race
		key, err := readStoreKey(path)
		if !errors.Is(err, fs.ErrNotExist) {
			return key, err
		}
		if enc, err := encryptedStore(dir); err != nil {
			return "", err
		} else if enc {
			return "", fmt.Errorf("bus: the NATS store %s is encrypted but its key file %s is missing: restore the key file, "+
				"or move the store away to start with an empty one (unfinished tasks are then planned again)", dir, path)
		}
		key, err = createStoreKey(path)
		if !errors.Is(err, fs.ErrExist) {
			return key, err
		}
	}
	return "", fmt.Errorf("bus: NATS store key file %s keeps appearing and disappearing", path)
}

// readStoreKey reads a key file, checking its permissions first.
func readStoreKey(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		return "", fmt.Errorf("bus: NATS store key file: %w", err)
	}
	if perm := fi.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 != 0 {
		return "", fmt.Errorf("bus: NATS store key file %s is readable by group or others (mode %#o): run `chmod 600 %s`",
			path, perm, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("bus: NATS store key file: %w", err)
	}
	key := strings.TrimSpace(string(data))
	if key == "" {
		return "", fmt.Errorf("bus: NATS store key file %s is empty: restore it from a backup (the store cannot be read without it)", path)
	}
	return key, nil
}

// createStoreKey writes a new random key with mode 0600; fs.ErrExist
// means another process created the file first.
func createStoreKey(path string) (string, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("bus: cannot create the NATS store key file's directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return "", err
		}
		return "", fmt.Errorf("bus: cannot create NATS store key file: %w", err)
	}
	key := rand.Text() + rand.Text() // 256 random bits, base32
	_, werr := f.WriteString(key + "\n")
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(path)
		return "", fmt.Errorf("bus: cannot write NATS store key file %s: %w", path, err)
	}
	return key, nil
}

// encryptedStore reports whether the JetStream store under dir holds
// encrypted assets: nats-server keeps a key file (meta.key) beside the
// metadata of each encrypted stream and consumer.
func encryptedStore(dir string) (bool, error) {
	found := false
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.IsDir() && d.Name() == server.JetStreamMetaFileKey {
			found = true
			return filepath.SkipAll
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("bus: look for an encrypted NATS store in %s: %w", dir, err)
	}
	return found, nil
}
