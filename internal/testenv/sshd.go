package testenv

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

const sshdPath = "/usr/sbin/sshd"

// SSHTestUser is the dedicated account used when SSHOptions.Password is set.
const SSHTestUser = "ossimport-test"

// SSHOptions configures SSHD.
type SSHOptions struct {
	// ListenAddr is host:port or host. "" means 127.0.0.1 and a free port. A
	// host without a port (or port 0) gets a free port, or 22 with NetNS.
	ListenAddr string
	// Password, if set, enables PasswordAuthentication and makes User the
	// dedicated account SSHTestUser, whose password is set to Password with
	// chpasswd (root only; otherwise the test is skipped). The account's
	// password is machine-wide: servers running at the same time must use the
	// same Password (checked within one process only).
	Password string
	// NetNS, if set, runs sshd inside that network namespace (ip netns exec;
	// root only). ListenAddr must then be an address of that namespace that
	// is reachable from the caller's namespace, e.g. Host.IP.
	NetNS string
	// Binds are bind mounts made in sshd's own mount namespace (root
	// only): its sessions, and what they start, see Source at Target.
	// Network-namespace hosts share this machine's files; binding a
	// per-host folder onto the working directory gives each host its own,
	// at the same path, as separate machines would have.
	Binds []Bind
}

// Bind is a bind mount: Source is seen at Target (both must exist).
type Bind struct{ Source, Target string }

// SSHServer is a running /usr/sbin/sshd with its own host key.
type SSHServer struct {
	Addr           string // host:port
	Host           string
	Port           int
	User           string        // account the client key (and Password) log in as
	Password       string        // SSHOptions.Password ("" = password auth off)
	HostKey        ssh.PublicKey // the server's host key
	KnownHostsLine string        // known_hosts line for Addr and HostKey
	KnownHostsFile string        // file holding KnownHostsLine
	PrivateKeyFile string        // client key (ed25519, OpenSSH format) authorised for User
	Dir            string        // config, keys and log (sshd.log)
	LogFile        string

	signer ssh.Signer
}

// SSHDPath returns /usr/sbin/sshd, installing openssh-server if needed.
func SSHDPath(ctx context.Context) (string, error) {
	return ensureInstalled(ctx, "openssh-server", sshdPath, "install-sshd.sh")
}

// StartSSHD starts sshd as described by opts and returns it with a stop
// function; see SSHD. Errors meaning "sshd cannot run here" wrap
// ErrUnavailable.
func StartSSHD(ctx context.Context, opts SSHOptions) (*SSHServer, func(), error) {
	if _, err := SSHDPath(ctx); err != nil {
		return nil, nil, err
	}
	root := os.Geteuid() == 0
	if len(opts.Binds) > 0 && !root {
		return nil, nil, unavailable("bind mounts for sshd need root")
	}
	var ipPath string
	if opts.NetNS != "" {
		if !root {
			return nil, nil, unavailable("running sshd in network namespace %q needs root", opts.NetNS)
		}
		var err error
		if ipPath, err = IPPath(ctx); err != nil {
			return nil, nil, err
		}
	}

	host, port, err := sshListenAddr(opts)
	if err != nil {
		return nil, nil, err
	}

	userName := ""
	if opts.Password != "" {
		if err := acquireTestUser(ctx, opts.Password); err != nil {
			return nil, nil, err
		}
		userName = SSHTestUser
	} else {
		u, err := user.Current()
		if err != nil {
			return nil, nil, err
		}
		userName = u.Username
	}
	fail := func(err error) (*SSHServer, func(), error) {
		if opts.Password != "" {
			releaseTestUser()
		}
		return nil, nil, err
	}

	if root {
		// Privilege-separation dir; sshd refuses to start without it.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			return fail(err)
		}
	}
	dir, err := makeWorkDir("sshd")
	if err != nil {
		return fail(err)
	}
	// The login user (possibly not root) must be able to read
	// authorized_keys: sshd reads it with the user's privileges.
	if err := os.Chmod(dir, 0o755); err != nil {
		_ = os.RemoveAll(dir)
		return fail(err)
	}
	srv, p, err := startSSHDIn(ctx, dir, host, port, userName, opts, ipPath)
	if err != nil {
		_ = os.RemoveAll(dir)
		return fail(err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			p.stop(5 * time.Second)
			_ = os.RemoveAll(dir)
			if opts.Password != "" {
				releaseTestUser()
			}
		})
	}
	return srv, stop, nil
}

func sshListenAddr(opts SSHOptions) (string, int, error) {
	addr := opts.ListenAddr
	if addr == "" {
		if opts.NetNS != "" {
			return "", 0, errors.New("SSHOptions.ListenAddr is required with NetNS (use the namespace's IP)")
		}
		addr = "127.0.0.1"
	}
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		// No port: the whole thing is the host (strip IPv6 brackets).
		host, portStr = strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]"), "0"
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad SSHOptions.ListenAddr %q", opts.ListenAddr)
	}
	if port == 0 {
		if opts.NetNS != "" {
			port = 22
		} else if port, err = FreePort(host); err != nil {
			return "", 0, fmt.Errorf("no free port on %s: %w", host, err)
		}
	}
	return host, port, nil
}

func startSSHDIn(ctx context.Context, dir, host string, port int, userName string, opts SSHOptions, ipPath string) (*SSHServer, *process, error) {
	hostPub, hostKeyFile, err := writeEd25519Key(dir, "ssh_host_ed25519_key", "ossimport-test-host")
	if err != nil {
		return nil, nil, err
	}
	clientPub, clientKeyFile, err := writeEd25519Key(dir, "id_ed25519", "ossimport-test-client")
	if err != nil {
		return nil, nil, err
	}
	signer, err := readSigner(clientKeyFile)
	if err != nil {
		return nil, nil, err
	}
	authKeys := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(authKeys, ssh.MarshalAuthorizedKey(clientPub), 0o644); err != nil {
		return nil, nil, err
	}

	addr := net.JoinHostPort(host, strconv.Itoa(port))
	passwordAuth := "no"
	if opts.Password != "" {
		passwordAuth = "yes"
	}
	cfg := strings.Join([]string{
		"# written by internal/testenv",
		"ListenAddress " + addr,
		"HostKey " + hostKeyFile,
		"PidFile " + filepath.Join(dir, "sshd.pid"),
		"AuthorizedKeysFile " + authKeys,
		"AllowUsers " + userName,
		"PubkeyAuthentication yes",
		"PasswordAuthentication " + passwordAuth,
		"PermitEmptyPasswords no",
		"KbdInteractiveAuthentication no",
		"PermitRootLogin prohibit-password",
		"UsePAM no",
		"StrictModes no",
		"UseDNS no",
		"PrintMotd no",
		"PrintLastLog no",
		"X11Forwarding no",
		"MaxStartups 100",
		"MaxSessions 100",
		"LogLevel VERBOSE",
		"Subsystem sftp internal-sftp",
		"",
	}, "\n")
	cfgFile := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		return nil, nil, err
	}
	if out, err := exec.CommandContext(ctx, sshdPath, "-t", "-f", cfgFile).CombinedOutput(); err != nil {
		return nil, nil, unavailable("sshd -t rejected the test config: %v: %s", err, bytes.TrimSpace(out))
	}

	argv := []string{sshdPath, "-D", "-e", "-f", cfgFile}
	if len(opts.Binds) > 0 {
		script := "set -e\n"
		for _, b := range opts.Binds {
			script += "mount --bind " + shQuote(b.Source) + " " + shQuote(b.Target) + "\n"
		}
		script += `exec "$@"`
		argv = append([]string{"sh", "-c", script, "sh"}, argv...)
		if opts.NetNS == "" {
			// ip netns exec makes its own mount namespace; without it, unshare.
			argv = append([]string{"unshare", "--mount", "--propagation", "private"}, argv...)
		}
	}
	if opts.NetNS != "" {
		argv = append([]string{ipPath, "netns", "exec", opts.NetNS}, argv...)
	}
	logPath := filepath.Join(dir, "sshd.log")
	p, err := startProcess("sshd", logPath, childEnv(nil), argv...)
	if err != nil {
		return nil, nil, unavailable("%v", err)
	}
	// Ready once it answers with an SSH banner.
	err = p.waitReady(ctx, func(ctx context.Context) error { return sshBannerCheck(ctx, addr) })
	if err != nil {
		p.stop(2 * time.Second)
		// Not being able to start sshd (e.g. not root) is an environment
		// limitation, not a product bug.
		return nil, nil, unavailable("%v", err)
	}

	kh := knownhosts.Line([]string{knownhosts.Normalize(addr)}, hostPub)
	khFile := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(khFile, []byte(kh+"\n"), 0o644); err != nil {
		p.stop(2 * time.Second)
		return nil, nil, err
	}
	return &SSHServer{
		Addr:           addr,
		Host:           host,
		Port:           port,
		User:           userName,
		Password:       opts.Password,
		HostKey:        hostPub,
		KnownHostsLine: kh,
		KnownHostsFile: khFile,
		PrivateKeyFile: clientKeyFile,
		Dir:            dir,
		LogFile:        logPath,
		signer:         signer,
	}, p, nil
}

// SSHD starts a real /usr/sbin/sshd (installing openssh-server if needed)
// with its own host key, a generated ed25519 client key authorised for User,
// public-key auth and optionally password auth, stopped in t.Cleanup. If
// sshd cannot be installed or started here the test is skipped, or fails if
// CI is set.
func SSHD(t testing.TB, opts SSHOptions) *SSHServer {
	t.Helper()
	srv, stop, err := StartSSHD(context.Background(), opts)
	if err != nil {
		skipOrFatal(t, "sshd", err)
	}
	cleanupServer(t, "sshd", srv.LogFile, stop)
	return srv
}

// Signer returns the client key as an ssh.Signer.
func (s *SSHServer) Signer() ssh.Signer { return s.signer }

// ClientConfig returns a config that logs in as User with the client key and
// accepts only this server's host key.
func (s *SSHServer) ClientConfig(t testing.TB) *ssh.ClientConfig {
	return &ssh.ClientConfig{
		User:            s.User,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(s.signer)},
		HostKeyCallback: ssh.FixedHostKey(s.HostKey),
		Timeout:         10 * time.Second,
	}
}

// Dial connects and authenticates with ClientConfig; the client is closed in
// t.Cleanup. It fails the test on error.
func (s *SSHServer) Dial(t testing.TB) *ssh.Client {
	t.Helper()
	c, err := ssh.Dial("tcp", s.Addr, s.ClientConfig(t))
	if err != nil {
		t.Fatalf("testenv: ssh dial %s as %s: %v", s.Addr, s.User, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// writeEd25519Key writes a new private key (OpenSSH format, 0600) as
// dir/name and its public key as dir/name.pub.
func writeEd25519Key(dir, name, comment string) (ssh.PublicKey, string, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, "", err
	}
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return nil, "", err
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, "", err
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, "", err
	}
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub))) + " " + comment + "\n"
	if err := os.WriteFile(path+".pub", []byte(line), 0o644); err != nil {
		return nil, "", err
	}
	return sshPub, path, nil
}

func readSigner(path string) (ssh.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ssh.ParsePrivateKey(data)
}

func sshBannerCheck(ctx context.Context, addr string) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetReadDeadline(dl)
	}
	buf := make([]byte, 4)
	if _, err := c.Read(buf); err != nil {
		return err
	}
	if string(buf) != "SSH-" {
		return fmt.Errorf("%s answered %q, not an SSH banner", addr, buf)
	}
	return nil
}

// The SSHTestUser account's password is machine-wide; within this process,
// servers running at the same time must agree on it.
var (
	testUserMu   sync.Mutex
	testUserPass string
	testUserRefs int
)

func acquireTestUser(ctx context.Context, password string) error {
	if os.Geteuid() != 0 {
		return unavailable("SSH password auth needs root (to create user %s and set its password)", SSHTestUser)
	}
	testUserMu.Lock()
	defer testUserMu.Unlock()
	if testUserRefs > 0 {
		if password != testUserPass {
			return fmt.Errorf("testenv: another SSHD in this process uses user %s with a different password; use one password", SSHTestUser)
		}
		testUserRefs++
		return nil
	}
	if _, err := user.Lookup(SSHTestUser); err != nil {
		out, err := exec.CommandContext(ctx, "useradd", "--create-home", "--shell", "/bin/sh", SSHTestUser).CombinedOutput()
		// Exit 9: created meanwhile by a parallel test process.
		var ee *exec.ExitError
		if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 9) {
			return unavailable("useradd %s: %v: %s", SSHTestUser, err, bytes.TrimSpace(out))
		}
	}
	cmd := exec.CommandContext(ctx, "chpasswd")
	cmd.Stdin = strings.NewReader(SSHTestUser + ":" + password + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		return unavailable("chpasswd for %s: %v: %s", SSHTestUser, err, bytes.TrimSpace(out))
	}
	testUserPass, testUserRefs = password, 1
	return nil
}

func releaseTestUser() {
	testUserMu.Lock()
	defer testUserMu.Unlock()
	if testUserRefs > 0 {
		testUserRefs--
	}
}

// shQuote quotes s for a POSIX shell.
func shQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
