package console

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"

	"github.com/ossimport/ossimport/internal/config"
)

// localWorkerName is the default name of a service's own in-process
// worker (and of `ossimport run`'s): this machine's host name, so that
// services of several machines on one NATS never run workers of the same
// name. With natsUrl (a NATS other services may share, a standby beside
// the leader on one machine, say) the name also carries a short hash of
// the working directory: <host>-<6 hex>. "localhost" only when the
// system has no host name.
func localWorkerName(s *config.Sys) string {
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
