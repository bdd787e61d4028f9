package console

import (
	"os"
	"strings"
)

// localWorkerName is the default name of a service's own in-process
// worker (and of `ossimport run`'s): this machine's host name, so that
// two services on one NATS (a standby beside the leader, say) never run
// workers of the same name. "localhost" only when the system has no
// host name.
func localWorkerName() string {
	if h, err := os.Hostname(); err == nil {
		if h = strings.TrimSpace(h); h != "" {
			return h
		}
	}
	return "localhost"
}
