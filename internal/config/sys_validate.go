package config

import (
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
)

// Validate checks s and returns every problem found. It does not modify s
// and does not resolve relative paths (ParseSys and LoadSys do that first);
// file existence is checked for the NATS TLS files, natsCredsFile and
// privateKeyFile.
func (s *Sys) Validate() Diagnostics {
	c := &checker{reg: sysRegistry(), v: reflect.ValueOf(s), file: s.file, lines: s.lines}
	c.generic()
	for i, u := range s.NATSURLs {
		if err := checkNATSURL(u); err != "" {
			c.errorf("natsUrl", "natsUrl entry %d (%s) %s", i+1, redactURL(u), err)
		}
	}
	if s.NATSListen != "" && validHost(s.NATSListen) != nil {
		c.errorf("natsListen", "natsListen %s must be an IP address or host name without a port (set the port with natsPort)", c.q("natsListen"))
	}
	if (s.NATSTLSCert == "") != (s.NATSTLSKey == "") {
		c.errorf("natsTlsKey", "natsTlsCert and natsTlsKey must be set together (or both left empty)")
	}
	for _, key := range []string{"natsTlsCert", "natsTlsKey", "natsTlsCaFile", "natsCredsFile", "privateKeyFile"} {
		s.checkFileExists(c, key)
	}
	s.validateNATSCluster(c)
	if s.NATSCredsFile != "" && len(s.NATSURLs) == 0 {
		c.warnf("natsCredsFile", "natsCredsFile is only used with an external NATS (natsUrl) and is ignored")
	}
	for key, addr := range map[string]string{"httpListen": s.HTTPListen, "workerHttpListen": s.WorkerHTTPListen} {
		if addr == "" {
			continue
		}
		if err := checkListenAddr(addr); err != nil {
			c.errorf(key, "%s %q %v", key, addr, err)
		}
	}
	if len(s.WorkerMaxThroughputSchedule) > 0 && s.WorkerMaxThroughputKB != 0 {
		c.warnf("workerMaxThroughputSchedule", "workerMaxThroughputSchedule overrides workerMaxThroughput(KB/s) %s (set one of them)", c.q("workerMaxThroughput(KB/s)"))
	}
	if s.SSHAcceptUnknownHostKeys {
		c.warnf("sshAcceptUnknownHostKeys", "sshAcceptUnknownHostKeys=true trusts unknown worker host keys, which allows man-in-the-middle attacks (add the workers to sshKnownHostsFile instead)")
	}
	if s.MemoryLimit >= 64*MiB && s.MemoryLimit < 256*MiB {
		c.warnf("javaHeapMaxSize", "javaHeapMaxSize %s is small; with many threads the service will spend most of its time collecting garbage (use 1024m or more)", c.q("javaHeapMaxSize"))
	}
	return c.diags
}

func (s *Sys) checkFileExists(c *checker, key string) {
	k, _ := c.reg.lookup(key)
	p := c.reg.fieldOf(c.v, k).String()
	if p == "" {
		return
	}
	if _, err := os.Stat(p); err != nil {
		c.errorf(key, "%s %q cannot be read: %v (fix the path)", key, p, unwrapPathErr(err))
	}
}

// unwrapPathErr drops the path from an *os.PathError, which the message
// already names.
func unwrapPathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// redactURL quotes a URL for a message with any password hidden.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if strings.Contains(raw, "@") {
			return `"****"`
		}
		return strconv.Quote(raw)
	}
	if u.User == nil {
		return strconv.Quote(u.String())
	}
	u.User = nil
	return strconv.Quote(strings.Replace(u.String(), "://", "://****@", 1))
}

// checkNATSURL validates one natsUrl entry and returns the problem, if any.
func checkNATSURL(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "is not a URL (write e.g. nats://10.0.0.5:4222)"
	case u.Scheme != "nats" && u.Scheme != "tls":
		return "must start with nats:// or tls://"
	case validHost(u.Hostname()) != nil:
		return "has an invalid host"
	case u.Path != "" && u.Path != "/", u.RawQuery != "":
		return "must not have a path or query"
	case u.User != nil:
		return "must not carry credentials (use natsCredsFile)"
	}
	if p := u.Port(); p != "" {
		if err := checkPort(p); err != nil {
			return err.Error()
		}
	}
	return ""
}
