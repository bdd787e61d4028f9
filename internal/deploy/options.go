// Package deploy is everything ossimport does over SSH: it connects to
// the hosts of conf/workers (host-key checks, key or password login),
// copies ossimport there (`console deploy`), and starts, stops and asks
// after the processes `console start` and `console stop` run on the
// other hosts: the workers and, with natsEmbeddedCluster, the members'
// services. Each verb prints one row per host. It returns errors and
// never logs.
package deploy

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ossimport/ossimport/internal/config"
)

// Defaults used when the corresponding Options field is zero.
const (
	DefaultPort     = 22
	DefaultTimeout  = 15 * time.Second
	DefaultParallel = 8
)

// Options says how to log in to the worker hosts. It mirrors the SSH keys of
// conf/sys.properties; see FromSys.
type Options struct {
	// User is the login name on every worker (workerUserName).
	User string
	// Password is used for password and keyboard-interactive
	// authentication when PrivateKeyFile is empty (workerPassword).
	Password string
	// PrivateKeyFile is an unencrypted private key; when set it takes
	// priority over Password (privateKeyFile).
	PrivateKeyFile string
	// Port is used for hosts whose conf/workers line has no port; 0 means
	// DefaultPort (sshPort).
	Port int
	// KnownHostsFile verifies host keys; "" means ~/.ssh/known_hosts
	// (sshKnownHostsFile).
	KnownHostsFile string
	// AcceptUnknownHostKeys accepts keys of hosts not yet in KnownHostsFile
	// and records them there (sshAcceptUnknownHostKeys). A changed key is
	// refused regardless.
	AcceptUnknownHostKeys bool
	// Timeout bounds connecting and the SSH handshake; 0 means
	// DefaultTimeout.
	Timeout time.Duration
	// WorkingDir is the remote working directory used by Deploy; relative
	// File.Remote paths are resolved against it. A leading "~/" means the
	// login user's home directory.
	WorkingDir string
	// Parallel bounds how many hosts Deploy works on at once; 0 means
	// DefaultParallel.
	Parallel int
}

// FromSys builds Options from conf/sys.properties.
func FromSys(s *config.Sys) Options {
	return Options{
		User:                  s.WorkerUserName,
		Password:              s.WorkerPassword,
		PrivateKeyFile:        s.PrivateKeyFile,
		Port:                  s.SSHPort,
		KnownHostsFile:        s.SSHKnownHostsFile,
		AcceptUnknownHostKeys: s.SSHAcceptUnknownHostKeys,
		WorkingDir:            s.WorkingDir,
	}
}

// Validate reports settings that cannot work. It never mentions the
// password's value.
func (o Options) Validate() error {
	var errs []error
	if strings.TrimSpace(o.User) == "" {
		errs = append(errs, errors.New("workerUserName is empty (set the SSH user of the workers)"))
	}
	if o.PrivateKeyFile == "" && o.Password == "" {
		errs = append(errs, errors.New("neither privateKeyFile nor workerPassword is set (set one to log in to the workers)"))
	}
	if o.Port < 0 || o.Port > 65535 {
		errs = append(errs, fmt.Errorf("sshPort %d is out of range (use 1-65535)", o.Port))
	}
	if o.Timeout < 0 {
		errs = append(errs, fmt.Errorf("SSH timeout %s is negative", o.Timeout))
	}
	if o.Parallel < 0 {
		errs = append(errs, fmt.Errorf("parallel host count %d is negative", o.Parallel))
	}
	if o.PrivateKeyFile != "" {
		if st, err := os.Stat(o.PrivateKeyFile); err != nil {
			errs = append(errs, fmt.Errorf("privateKeyFile: %w", err))
		} else if !st.Mode().IsRegular() {
			errs = append(errs, fmt.Errorf("privateKeyFile %s is not a regular file", o.PrivateKeyFile))
		}
	}
	return errors.Join(errs...)
}

// withDefaults fills in the zero fields.
func (o Options) withDefaults() (Options, error) {
	if o.Port == 0 {
		o.Port = DefaultPort
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Parallel == 0 {
		o.Parallel = DefaultParallel
	}
	if o.KnownHostsFile == "" {
		home, err := os.UserHomeDir()
		if err != nil || home == "" {
			return o, fmt.Errorf("cannot find the home directory for the default known_hosts file (set sshKnownHostsFile): %v", err)
		}
		o.KnownHostsFile = filepath.Join(home, ".ssh", "known_hosts")
	}
	return o, nil
}
