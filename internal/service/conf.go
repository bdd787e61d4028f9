package service

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/logging"
	"github.com/ossimport/ossimport/internal/workdir"
)

// Home is $OSS_IMPORT_HOME, or "." when unset.
func Home() string {
	if h := os.Getenv("OSS_IMPORT_HOME"); h != "" {
		return h
	}
	return "."
}

// ConfFile is a file of the installation's conf folder.
func ConfFile(name string) string { return filepath.Join(Home(), "conf", name) }

// FileExists reports whether p exists.
func FileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// WorkersFile is the workers file the service reads: the one given, else
// the one next to sys.properties, else conf/workers.
func WorkersFile(flag string, s *config.Sys) string {
	switch {
	case flag != "":
		return flag
	case s.File() != "":
		return filepath.Join(filepath.Dir(s.File()), "workers")
	}
	return ConfFile("workers")
}

// IsLocalHost reports whether a workers-file host is this machine.
func IsLocalHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	if name, err := os.Hostname(); err == nil && strings.EqualFold(strings.TrimSuffix(host, "."), name) {
		return true
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false
	}
	if ip.IsLoopback() {
		return true
	}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return true
		}
	}
	return false
}

// LocalWorkerName is the default name of a service's own in-process
// worker (and of `ossimport run`'s): this machine's host name, so that
// services of several machines on one NATS never run workers of the same
// name. With natsUrl (a NATS other services may share, a standby beside
// the leader on one machine, say) the name also carries a short hash of
// the working directory: <host>-<6 hex>. "localhost" only when the
// system has no host name.
func LocalWorkerName(s *config.Sys) string {
	name := hostName()
	if name == "" {
		name = "localhost"
	}
	if len(s.NATSURLs) > 0 {
		dir, err := filepath.Abs(s.WorkingDir)
		if err != nil {
			dir = s.WorkingDir
		}
		sum := sha256.Sum256([]byte(dir))
		name += "-" + hex.EncodeToString(sum[:3])
	}
	return name
}

// hostName is this machine's host name, "" when it has none.
func hostName() string {
	h, err := os.Hostname()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(h)
}

// OpenLog opens logs/<name> under the working directory as a slog
// logger with sys.properties' logLevel, rotated at logMaxSize keeping
// logMaxFiles, with secrets masked (internal/logging).
func OpenLog(dir workdir.Dir, name string, s *config.Sys) (*slog.Logger, func(), error) {
	if err := os.MkdirAll(dir.Logs(), 0o755); err != nil {
		return nil, nil, &Error{Code: 2, Err: fmt.Errorf("create log folder (check workingDir in sys.properties): %w", err)}
	}
	logger, f, err := logging.Open(filepath.Join(dir.Logs(), name), logging.Options{Level: s.LogLevel, MaxSize: s.LogMaxSize, MaxFiles: s.LogMaxFiles})
	if err != nil {
		return nil, nil, &Error{Code: 2, Err: err}
	}
	return logger, func() { _ = f.Close() }, nil
}
