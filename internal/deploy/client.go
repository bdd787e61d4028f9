package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/ossimport/ossimport/internal/config"
)

// Client is an SSH connection to one worker host.
type Client struct {
	host config.WorkerHost
	addr string
	user string
	conn *ssh.Client

	sftpMu sync.Mutex
	sftp   *sftp.Client
}

// UnreachableError is returned by Dial when no TCP connection can be made.
type UnreachableError struct {
	Addr string
	Err  error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach %s: %v: check the address in conf/workers, sshPort and firewalls", e.Addr, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// AuthError is returned by Dial when the server refuses the credentials.
type AuthError struct {
	User   string
	Addr   string
	Method string // "private key" or "password"
	Err    error
}

func (e *AuthError) Error() string {
	return fmt.Sprintf("authentication failed for user %s on %s (%s): check workerUserName/workerPassword or privateKeyFile: %v",
		e.User, e.Addr, e.Method, e.Err)
}

func (e *AuthError) Unwrap() error { return e.Err }

// Dial connects and logs in to host, verifying its host key.
func Dial(ctx context.Context, host config.WorkerHost, opts Options) (*Client, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	addr := host.Addr(opts.Port)

	auth, method, err := authMethods(opts)
	if err != nil {
		return nil, err
	}
	hk, err := newHostKeyChecker(opts.KnownHostsFile, opts.AcceptUnknownHostKeys)
	if err != nil {
		return nil, err
	}
	cfg := &ssh.ClientConfig{
		User:              opts.User,
		Auth:              auth,
		HostKeyCallback:   hk.callback,
		HostKeyAlgorithms: hk.algorithms(addr),
		Timeout:           opts.Timeout,
	}

	dctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(dctx, "tcp", addr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("connect to %s: %w", addr, ctx.Err())
		}
		if isTimeout(err) {
			err = fmt.Errorf("no answer within %s", opts.Timeout)
		}
		return nil, &UnreachableError{Addr: addr, Err: trimOpError(err)}
	}
	// Bound the handshake by the timeout and ctx.
	_ = nc.SetDeadline(time.Now().Add(opts.Timeout))
	stop := context.AfterFunc(dctx, func() { _ = nc.Close() })
	sc, chans, reqs, err := ssh.NewClientConn(nc, addr, cfg)
	stopped := stop()
	if err != nil {
		_ = nc.Close()
		switch {
		case hk.err != nil:
			return nil, hk.err
		case strings.Contains(err.Error(), "unable to authenticate"):
			return nil, &AuthError{User: opts.User, Addr: addr, Method: method, Err: errors.New("the server refused the credentials")}
		case ctx.Err() != nil:
			return nil, fmt.Errorf("SSH handshake with %s: %w", addr, ctx.Err())
		case !stopped || isTimeout(err):
			return nil, &UnreachableError{Addr: addr, Err: fmt.Errorf("SSH handshake timed out after %s", opts.Timeout)}
		default:
			return nil, fmt.Errorf("SSH handshake with %s: %w", addr, err)
		}
	}
	_ = nc.SetDeadline(time.Time{})
	return &Client{host: host, addr: addr, user: opts.User, conn: ssh.NewClient(sc, chans, reqs)}, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// trimOpError drops the repetitive "dial tcp host:port:" prefix.
func trimOpError(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err
	}
	return err
}

func authMethods(opts Options) ([]ssh.AuthMethod, string, error) {
	if opts.PrivateKeyFile != "" {
		data, err := os.ReadFile(opts.PrivateKeyFile)
		if err != nil {
			return nil, "", fmt.Errorf("read privateKeyFile: %w", err)
		}
		signer, err := ssh.ParsePrivateKey(data)
		if err != nil {
			var pe *ssh.PassphraseMissingError
			if errors.As(err, &pe) {
				return nil, "", fmt.Errorf("privateKeyFile %s is protected by a passphrase; use a key without one (or a copy decrypted with ssh-keygen -p)", opts.PrivateKeyFile)
			}
			return nil, "", fmt.Errorf("privateKeyFile %s is not a usable private key: %v", opts.PrivateKeyFile, err)
		}
		return []ssh.AuthMethod{ssh.PublicKeys(signer)}, "private key " + opts.PrivateKeyFile, nil
	}
	pw := opts.Password
	kbd := ssh.KeyboardInteractive(func(_, _ string, questions []string, echos []bool) ([]string, error) {
		answers := make([]string, len(questions))
		for i := range questions {
			if !echos[i] {
				answers[i] = pw
			}
		}
		return answers, nil
	})
	return []ssh.AuthMethod{ssh.Password(pw), kbd}, "password", nil
}

// Addr returns the host:port the client is connected to.
func (c *Client) Addr() string { return c.addr }

// Host returns the conf/workers entry the client was dialled with.
func (c *Client) Host() config.WorkerHost { return c.host }

// SSH returns the underlying connection.
func (c *Client) SSH() *ssh.Client { return c.conn }

// Close ends the connection.
func (c *Client) Close() error {
	c.sftpMu.Lock()
	if c.sftp != nil {
		_ = c.sftp.Close()
		c.sftp = nil
	}
	c.sftpMu.Unlock()
	return c.conn.Close()
}

// sftpClient returns the SFTP session, opening it on first use.
func (c *Client) sftpClient() (*sftp.Client, error) {
	c.sftpMu.Lock()
	defer c.sftpMu.Unlock()
	if c.sftp != nil {
		return c.sftp, nil
	}
	s, err := sftp.NewClient(c.conn)
	if err != nil {
		return nil, fmt.Errorf("start SFTP on %s: %w", c.addr, err)
	}
	c.sftp = s
	return s, nil
}

// RunError is returned by Run when the command fails on the remote side.
type RunError struct {
	Addr   string
	Cmd    string
	Status int // exit status; -1 when the command ended without one
	Stderr string
	Err    error
}

func (e *RunError) Error() string {
	msg := fmt.Sprintf("command %q on %s failed: %v", e.Cmd, e.Addr, e.Err)
	if s := lastLine(e.Stderr); s != "" {
		msg += ": " + s
	}
	return msg
}

func (e *RunError) Unwrap() error { return e.Err }

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// Run executes cmd with the login user's shell and waits for it. stdin may
// be nil. A non-zero exit status is a *RunError.
func (c *Client) Run(ctx context.Context, cmd string, stdin io.Reader) (stdout, stderr string, err error) {
	s, err := c.conn.NewSession()
	if err != nil {
		return "", "", fmt.Errorf("open SSH session on %s: %w", c.addr, err)
	}
	defer s.Close()
	var out, errb lockedBuffer
	s.Stdout, s.Stderr = &out, &errb
	if stdin != nil {
		s.Stdin = stdin
	}
	if err := s.Start(cmd); err != nil {
		return "", "", fmt.Errorf("start %q on %s: %w", cmd, c.addr, err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		// Not every sshd honours signals, and closing the channel does not
		// end the remote command; give up waiting after a short grace.
		_ = s.Signal(ssh.SIGKILL)
		_ = s.Close()
		select {
		case <-done: //nolint:errcheck // timed out already; the command's own error adds nothing
		case <-time.After(2 * time.Second):
		}
		return out.String(), errb.String(), fmt.Errorf("command %q on %s: %w", cmd, c.addr, ctx.Err())
	}
	if err != nil {
		re := &RunError{Addr: c.addr, Cmd: cmd, Status: -1, Stderr: errb.String(), Err: err}
		var ee *ssh.ExitError
		if errors.As(err, &ee) {
			re.Status = ee.ExitStatus()
		}
		return out.String(), errb.String(), re
	}
	return out.String(), errb.String(), nil
}

// Start launches cmd in the background on the host, detached from the SSH
// session (new session via setsid, SIGHUP ignored via nohup), and returns
// once it is started. cmd runs under sh -c with stdout and stderr going to
// /dev/null unless cmd redirects them itself (e.g. "exec bin/worker >>logs/worker.log 2>&1").
//
// stdin, when non-nil, is read completely (it is meant for small secrets)
// and becomes the process's standard input through a pipe; it is never part
// of any command line. It must not contain NUL bytes.
func (c *Client) Start(ctx context.Context, cmd string, stdin io.Reader) error {
	var input []byte
	if stdin != nil {
		var err error
		if input, err = io.ReadAll(stdin); err != nil {
			return fmt.Errorf("read stdin for %q: %w", cmd, err)
		}
		if bytes.IndexByte(input, 0) >= 0 {
			return errors.New("deploy: Start: stdin must not contain NUL bytes")
		}
	}
	// The wrapper reads the whole input into a shell variable (the trailing
	// "x" keeps trailing newlines), then pipes it with the printf builtin
	// into the detached process. Neither the data nor the variable appear in
	// an argv. All fds of the background part are redirected so that sshd
	// can close the session at once.
	inner := "sh -c " + shellQuote(cmd)
	var script string
	if stdin != nil {
		// (";" not "&&": the trailing "&" would otherwise apply to the
		// whole list, and an asynchronous list reads /dev/null.)
		script = `__in=$(cat; echo x); __in=${__in%x}; ` +
			`{ printf '%s' "$__in" | setsid nohup ` + inner + ` >/dev/null 2>&1 ; } </dev/null >/dev/null 2>&1 &`
	} else {
		script = `setsid nohup ` + inner + ` </dev/null >/dev/null 2>&1 &`
	}
	var in io.Reader
	if stdin != nil {
		in = bytes.NewReader(input)
	}
	if _, _, err := c.Run(ctx, script, in); err != nil {
		var re *RunError
		if errors.As(err, &re) {
			re.Cmd = cmd // do not show the wrapper
		}
		return err
	}
	return nil
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// lockedBuffer is a bytes.Buffer safe to read while a session still writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
