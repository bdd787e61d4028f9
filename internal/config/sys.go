package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"time"
)

// Sys is the content of conf/sys.properties. Field tags name the key each
// field is read from; see SysKeys for defaults and rules.
//
// Relative paths (workingDir, privateKeyFile, sshKnownHostsFile and the
// NATS files) are resolved against the package directory, which is the
// parent of the directory holding sys.properties: with conf/sys.properties,
// "workdir" means "./workdir", not "conf/workdir". A leading "~/" means the
// current user's home directory.
type Sys struct {
	WorkingDir                        string `key:"workingDir"`
	WorkerUserName                    string `key:"workerUserName"`
	WorkerPassword                    string `key:"workerPassword"`
	PrivateKeyFile                    string `key:"privateKeyFile"`
	SSHPort                           int    `key:"sshPort"`
	WorkerTaskThreadNum               int    `key:"workerTaskThreadNum"`
	WorkerTaskThreadAdaptive          bool   `key:"workerTaskThreadAdaptive"`
	WorkerMaxThroughputKB             int64  `key:"workerMaxThroughput(KB/s)"` // 0 = unlimited
	DispatcherThreadNum               int    `key:"dispatcherThreadNum"`
	WorkerAbortWhenUncatchedException bool   `key:"workerAbortWhenUncatchedException"`
	WorkerRecordMD5                   bool   `key:"workerRecordMd5"`
	// MemoryLimit is read from javaHeapMaxSize. The service applies it with
	// debug.SetMemoryLimit, a soft limit that makes the Go garbage collector
	// work harder as the heap approaches it (it does not abort the process).
	MemoryLimit int64 `key:"javaHeapMaxSize"`

	NATSURLs      []string `key:"natsUrl"`
	NATSPort      int      `key:"natsPort"`
	NATSListen    string   `key:"natsListen"`
	NATSTLSCert   string   `key:"natsTlsCert"`
	NATSTLSKey    string   `key:"natsTlsKey"`
	NATSTLSCAFile string   `key:"natsTlsCaFile"`
	NATSCredsFile string   `key:"natsCredsFile"`
	NATSAutoTLS   bool     `key:"natsAutoTls"`
	// NATSReplicas is natsReplicas; 0 means automatic (bus.DefaultReplicas).
	NATSReplicas        int  `key:"natsReplicas"`
	NATSEmbeddedCluster bool `key:"natsEmbeddedCluster"`
	NATSClusterPort     int  `key:"natsClusterPort"`

	WorkerMaxThroughputSchedule Schedule      `key:"workerMaxThroughputSchedule"`
	WorkerMaxRequestRate        int           `key:"workerMaxRequestRate"` // requests/s, 0 = unlimited
	LogLevel                    string        `key:"logLevel"`
	LogMaxSize                  int64         `key:"logMaxSize"`
	LogMaxFiles                 int           `key:"logMaxFiles"`
	HTTPListen                  string        `key:"httpListen"`
	HTTPAllowedHosts            []string      `key:"httpAllowedHosts"`
	WorkerHTTPListen            string        `key:"workerHttpListen"`
	SSHKnownHostsFile           string        `key:"sshKnownHostsFile"`
	SSHAcceptUnknownHostKeys    bool          `key:"sshAcceptUnknownHostKeys"`
	TaskAckWait                 time.Duration `key:"taskAckWait"`
	TaskMaxDeliver              int           `key:"taskMaxDeliver"`
	WorkerRetryBudget           time.Duration `key:"workerRetryBudget"`
	WorkerProgressInterval      time.Duration `key:"workerProgressInterval"`
	WorkerHeartbeatInterval     time.Duration `key:"workerHeartbeatInterval"`

	file    string
	lines   map[string]int
	written map[string]string // path keys as written, before resolution
}

// pathKeys are the Sys keys holding file or directory paths.
var pathKeys = []string{"workingDir", "privateKeyFile", "sshKnownHostsFile", "natsTlsCert", "natsTlsKey", "natsTlsCaFile", "natsCredsFile"}

var sysRegistry = sync.OnceValue(func() *registry {
	return newRegistry(sysKeys, reflect.TypeFor[Sys]())
})

// SysKeys returns the table of sys.properties keys, in template order.
func SysKeys() []Key { return append([]Key(nil), sysKeys...) }

// DefaultSys returns a Sys with every key at its default value. Paths are
// left as written ("." and "~/.ssh/known_hosts").
func DefaultSys() *Sys {
	s := &Sys{}
	sysRegistry().setDefaults(reflect.ValueOf(s))
	return s
}

// LoadSys reads and checks the sys.properties file at path. The error is
// non-nil only when the file cannot be read.
func LoadSys(path string) (*Sys, Diagnostics, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read system config %s: %w", path, err)
	}
	base := filepath.Dir(filepath.Dir(path))
	if abs, err := filepath.Abs(base); err == nil {
		base = abs
	}
	s, diags := parseSys(path, base, data)
	return s, diags, nil
}

// ParseSys decodes and checks a sys.properties file; name is used in
// diagnostics and to resolve relative paths (against the parent of
// name's directory).
func ParseSys(name string, data []byte) (*Sys, Diagnostics) {
	return parseSys(name, filepath.Dir(filepath.Dir(name)), data)
}

func parseSys(name, base string, data []byte) (*Sys, Diagnostics) {
	pf, diags := parseProperties(name, data)
	s := DefaultSys()
	s.file = name
	lines, more := sysRegistry().decode(pf, reflect.ValueOf(s), jobRegistry(), "the job file")
	s.lines = lines
	diags = append(diags, more...)
	if s.WorkingDir == "" {
		diags = append(diags, Diagnostic{File: name, Line: lines["workingDir"], Key: "workingDir", Severity: Warning,
			Msg: `workingDir is empty, so "." (the package directory) is used (write . or an absolute path)`})
		s.WorkingDir = "."
	}
	diags = append(diags, s.resolvePaths(base)...)
	diags = append(diags, s.Validate()...)
	diags.sort()
	return s, diags
}

// resolvePaths makes the path keys absolute (or relative to the current
// directory when base is) and expands "~/".
func (s *Sys) resolvePaths(base string) Diagnostics {
	var diags Diagnostics
	r := sysRegistry()
	s.written = map[string]string{}
	for _, key := range pathKeys {
		k, _ := r.lookup(key)
		f := r.fieldOf(reflect.ValueOf(s), k)
		p := f.String()
		if p == "" {
			continue
		}
		resolved, err := resolvePath(base, p)
		if err != nil {
			diags = append(diags, Diagnostic{File: s.file, Line: s.lines[key], Key: key,
				Msg: fmt.Sprintf("%s %q %v", key, p, err)})
			continue
		}
		if resolved != p {
			s.written[key] = p
			f.SetString(resolved)
		}
	}
	return diags
}

func resolvePath(base, p string) (string, error) {
	if p == "~" || strings.HasPrefix(p, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("starts with ~ but the home directory is unknown (write an absolute path)")
		}
		return filepath.Join(home, p[1:]), nil
	}
	if strings.HasPrefix(p, "~") {
		return "", fmt.Errorf("uses ~user, which is not supported (write an absolute path)")
	}
	if filepath.IsAbs(p) || isAbsPath(p) {
		return filepath.Clean(p), nil
	}
	return filepath.Join(base, p), nil
}

// Effective lists every sys.properties key with the value in use and where
// it came from. Secrets are masked; resolved paths note what was written.
func (s *Sys) Effective() []Setting {
	out := sysRegistry().effective(reflect.ValueOf(s), s.file, s.lines)
	for i := range out {
		if w, ok := s.written[out[i].Key]; ok {
			out[i].Note = "written as " + w
			k, _ := sysRegistry().lookup(out[i].Key)
			out[i].Default = out[i].Line == 0 && w == k.Default
		}
		if out[i].Key == "natsUrl" {
			parts := make([]string, len(s.NATSURLs))
			for n, u := range s.NATSURLs {
				parts[n] = strings.Trim(redactURL(u), `"`)
			}
			out[i].Value = strings.Join(parts, ",")
		}
	}
	return out
}

// File returns the name the configuration was parsed from, or "" for a Sys
// built in code.
func (s *Sys) File() string { return s.file }

// NATSListenAddr returns the address the embedded NATS server binds to:
// natsListen when set, else 127.0.0.1 for standalone and 0.0.0.0 for
// distributed deployments.
func (s *Sys) NATSListenAddr(distributed bool) string {
	switch {
	case s.NATSListen != "":
		return s.NATSListen
	case distributed:
		return "0.0.0.0"
	}
	return "127.0.0.1"
}

// MaxThroughput returns the static bandwidth cap in bytes per second (0 =
// unlimited), converted from workerMaxThroughput(KB/s).
func (s *Sys) MaxThroughput() int64 {
	if s.WorkerMaxThroughputKB > (1<<63-1)/KiB {
		return 0
	}
	return s.WorkerMaxThroughputKB * KiB
}
