package bus

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

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

// storeKeyFile is the store key's secret file.
func storeKeyFile(path string) secretFile {
	return secretFile{path: path, what: "NATS store key file",
		emptyFix: "restore it from a backup (the store cannot be read without it)"}
}

func readStoreKey(path string) (string, error) { return storeKeyFile(path).read() }

// createStoreKey writes a new random key (256 bits, base32).
func createStoreKey(path string) (string, error) {
	return storeKeyFile(path).create(rand.Text() + rand.Text())
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
