package deploy

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/testenv"
)

func hostOf(srv *testenv.SSHServer) config.WorkerHost {
	return config.WorkerHost{Host: srv.Host, Port: srv.Port}
}

// keyOpts logs in with the server's client key and a private copy of its
// known_hosts file.
func keyOpts(t *testing.T, srv *testenv.SSHServer) Options {
	t.Helper()
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(kh, []byte(srv.KnownHostsLine+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return Options{User: srv.User, PrivateKeyFile: srv.PrivateKeyFile, KnownHostsFile: kh, Timeout: 10 * time.Second}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testenv.Scale(2*time.Minute))
	t.Cleanup(cancel)
	return ctx
}

func dial(t *testing.T, srv *testenv.SSHServer, opts Options) *Client {
	t.Helper()
	c, err := Dial(testCtx(t), hostOf(srv), opts)
	if err != nil {
		t.Fatalf("Dial %s: %v", srv.Addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"ok password", Options{User: "root", Password: "pw"}, ""},
		{"no user", Options{Password: "pw"}, "workerUserName"},
		{"no credentials", Options{User: "root"}, "privateKeyFile nor workerPassword"},
		{"bad port", Options{User: "root", Password: "pw", Port: 70000}, "sshPort"},
		{"missing key", Options{User: "root", PrivateKeyFile: "/nonexistent/key"}, "privateKeyFile"},
		{"negative timeout", Options{User: "root", Password: "pw", Timeout: -1}, "timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.o.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want error containing %q", err, tc.want)
			}
			if tc.o.Password != "" && strings.Contains(err.Error(), tc.o.Password) {
				t.Fatalf("error shows the password: %v", err)
			}
		})
	}
}

func TestDialKeyAndRun(t *testing.T) {
	srv := testenv.SSHD(t, testenv.SSHOptions{})
	c := dial(t, srv, keyOpts(t, srv))
	ctx := testCtx(t)

	out, _, err := c.Run(ctx, "echo hello; cat", strings.NewReader("from stdin"))
	if err != nil {
		t.Fatal(err)
	}
	if out != "hello\nfrom stdin" {
		t.Fatalf("stdout = %q", out)
	}
	_, stderr, err := c.Run(ctx, "echo oops >&2; exit 3", nil)
	var re *RunError
	if !errors.As(err, &re) || re.Status != 3 || stderr != "oops\n" {
		t.Fatalf("Run exit 3: err=%v stderr=%q", err, stderr)
	}
	if !strings.Contains(err.Error(), "oops") {
		t.Fatalf("error lacks stderr: %v", err)
	}

	// A cancelled context stops a running command.
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, _, err := c.Run(cctx, "sleep 20", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run with deadline: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("cancel took %s", d)
	}
}

func TestUnknownHostKey(t *testing.T) {
	srv := testenv.SSHD(t, testenv.SSHOptions{})
	opts := keyOpts(t, srv)
	opts.KnownHostsFile = filepath.Join(t.TempDir(), "sub", "known_hosts") // does not exist

	_, err := Dial(testCtx(t), hostOf(srv), opts)
	var he *HostKeyError
	if !errors.As(err, &he) || he.Problem != HostKeyUnknown {
		t.Fatalf("Dial with unknown host: %v, want HostKeyError(unknown)", err)
	}
	msg := err.Error()
	for _, want := range []string{srv.Addr, ssh.FingerprintSHA256(srv.HostKey), opts.KnownHostsFile, "sshAcceptUnknownHostKeys=true"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if _, err := os.Stat(opts.KnownHostsFile); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("refusing must not create known_hosts: %v", err)
	}

	// Accept: connects and records the key.
	acc := opts
	acc.AcceptUnknownHostKeys = true
	c := dial(t, srv, acc)
	c.Close()
	data, err := os.ReadFile(opts.KnownHostsFile)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(data)) != srv.KnownHostsLine {
		t.Fatalf("known_hosts = %q, want %q", data, srv.KnownHostsLine)
	}
	// Now known: a strict dial works, and accepting again adds nothing.
	dial(t, srv, opts).Close()
	dial(t, srv, acc).Close()
	if again, _ := os.ReadFile(opts.KnownHostsFile); !bytes.Equal(again, data) {
		t.Fatalf("known_hosts changed on a known host: %q", again)
	}
}

func TestHostKeyMismatch(t *testing.T) {
	srv := testenv.SSHD(t, testenv.SSHOptions{})
	opts := keyOpts(t, srv)
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := ssh.NewPublicKey(pub)
	content := "# comment\n" + knownhosts.Line([]string{knownhosts.Normalize(srv.Addr)}, other) + "\n"
	if err := os.WriteFile(opts.KnownHostsFile, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, accept := range []bool{false, true} {
		opts.AcceptUnknownHostKeys = accept
		_, err := Dial(testCtx(t), hostOf(srv), opts)
		var he *HostKeyError
		if !errors.As(err, &he) || he.Problem != HostKeyMismatch {
			t.Fatalf("accept=%v: Dial = %v, want host key mismatch", accept, err)
		}
		msg := err.Error()
		for _, want := range []string{"host key mismatch", "man-in-the-middle", "line 2 of " + opts.KnownHostsFile,
			ssh.FingerprintSHA256(srv.HostKey), ssh.FingerprintSHA256(other)} {
			if !strings.Contains(msg, want) {
				t.Errorf("error %q lacks %q", msg, want)
			}
		}
	}
	if data, _ := os.ReadFile(opts.KnownHostsFile); string(data) != content {
		t.Fatalf("known_hosts was modified: %q", data)
	}
}

func TestPasswordAuth(t *testing.T) {
	pw := "pw-" + randHex(8)
	srv := testenv.SSHD(t, testenv.SSHOptions{Password: pw})
	opts := keyOpts(t, srv)
	opts.PrivateKeyFile = ""
	opts.Password = pw
	c := dial(t, srv, opts)
	out, _, err := c.Run(testCtx(t), "id -un", nil)
	if err != nil || strings.TrimSpace(out) != srv.User {
		t.Fatalf("id -un = %q, %v", out, err)
	}

	opts.Password = "wrong-" + randHex(8)
	_, err = Dial(testCtx(t), hostOf(srv), opts)
	var ae *AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("wrong password: %v, want AuthError", err)
	}
	msg := err.Error()
	for _, want := range []string{"authentication failed for user " + srv.User + " on " + srv.Addr, "workerUserName/workerPassword or privateKeyFile"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, opts.Password) || strings.Contains(msg, pw) {
		t.Fatalf("error shows a password: %q", msg)
	}
}

func TestKeyRefused(t *testing.T) {
	a := testenv.SSHD(t, testenv.SSHOptions{})
	b := testenv.SSHD(t, testenv.SSHOptions{})
	opts := keyOpts(t, b)
	opts.PrivateKeyFile = a.PrivateKeyFile // not authorised on b
	_, err := Dial(testCtx(t), hostOf(b), opts)
	var ae *AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("Dial with a foreign key: %v, want AuthError", err)
	}
	for _, want := range []string{"authentication failed for user " + b.User + " on " + b.Addr, a.PrivateKeyFile, "privateKeyFile"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestUnreachable(t *testing.T) {
	kh := filepath.Join(t.TempDir(), "known_hosts")
	opts := Options{User: "root", Password: "pw", KnownHostsFile: kh, Timeout: 700 * time.Millisecond}

	// Refused: a port nobody listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	host := config.WorkerHost{Host: "127.0.0.1", Port: port}
	_, err = Dial(testCtx(t), host, opts)
	var ue *UnreachableError
	if !errors.As(err, &ue) {
		t.Fatalf("closed port: %v, want UnreachableError", err)
	}
	for _, want := range []string{"127.0.0.1:" + strconv.Itoa(port), "check the address in conf/workers, sshPort and firewalls", "refused"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}

	// Silent: accepts TCP but never speaks SSH.
	l, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close() //nolint:gocritic // deferInLoop: each connection stays open, silent, until the listener closes
		}
	}()
	host = config.WorkerHost{Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port}
	start := time.Now()
	_, err = Dial(testCtx(t), host, opts)
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("silent server: %v, want UnreachableError with timeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("timeout took %s", d)
	}
	if strings.Contains(err.Error(), opts.Password) {
		t.Fatalf("error shows the password: %v", err)
	}
}

func TestUpload(t *testing.T) {
	srv := testenv.SSHD(t, testenv.SSHOptions{})
	c := dial(t, srv, keyOpts(t, srv))
	ctx := testCtx(t)

	local := filepath.Join(t.TempDir(), "ossimport")
	if err := os.WriteFile(local, []byte("version 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	remoteDir := filepath.Join(t.TempDir(), "work", "bin")
	remote := filepath.Join(remoteDir, "ossimport")

	check := func(want string) {
		t.Helper()
		got, err := os.ReadFile(remote)
		if err != nil || string(got) != want {
			t.Fatalf("remote file = %q, %v; want %q", got, err, want)
		}
		st, _ := os.Stat(remote)
		if st.Mode().Perm() != 0o755 {
			t.Fatalf("remote mode = %v", st.Mode())
		}
		ents, _ := os.ReadDir(remoteDir)
		if len(ents) != 1 {
			t.Fatalf("remote dir holds %d entries, want 1 (temp file left?)", len(ents))
		}
	}
	skipped, err := c.Upload(ctx, local, remote, 0o755)
	if err != nil || skipped {
		t.Fatalf("first Upload: skipped=%v err=%v", skipped, err)
	}
	check("version 1\n")
	skipped, err = c.Upload(ctx, local, remote, 0o755)
	if err != nil || !skipped {
		t.Fatalf("second Upload: skipped=%v err=%v, want skipped", skipped, err)
	}
	if err := os.WriteFile(local, []byte("version 2, longer\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	skipped, err = c.Upload(ctx, local, remote, 0o755)
	if err != nil || skipped {
		t.Fatalf("changed Upload: skipped=%v err=%v", skipped, err)
	}
	check("version 2, longer\n")
}

func TestUploadPermissionDenied(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run sshd with a second user")
	}
	pw := "pw-" + randHex(8)
	srv := testenv.SSHD(t, testenv.SSHOptions{Password: pw})
	opts := keyOpts(t, srv)
	opts.PrivateKeyFile, opts.Password = "", pw
	c := dial(t, srv, opts)

	local := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(local, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if err := os.Chmod(root, 0o755); err != nil { // readable, not writable by the test user
		t.Fatal(err)
	}
	dir := filepath.Join(root, "work")
	_, err := c.Upload(testCtx(t), local, filepath.Join(dir, "f"), 0o644)
	var pe *PermissionError
	if !errors.As(err, &pe) {
		t.Fatalf("Upload into %s: %v, want PermissionError", dir, err)
	}
	if !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "workingDir") {
		t.Fatalf("error %q does not name %s and workingDir", err, dir)
	}
}

func TestStartKeepsSecretOffCommandLine(t *testing.T) {
	srv := testenv.SSHD(t, testenv.SSHOptions{})
	c := dial(t, srv, keyOpts(t, srv))
	ctx := testCtx(t)

	dir := t.TempDir()
	secret := "secret-" + randHex(12)
	pidFile, gotFile := filepath.Join(dir, "pid"), filepath.Join(dir, "got")
	cmd := `echo $$ > ` + pidFile + `; read -r s; printf '%s' "$s" > ` + gotFile + `.tmp; mv ` + gotFile + `.tmp ` + gotFile + `; exec sleep 30`
	if err := c.Start(ctx, cmd, strings.NewReader(secret+"\n")); err != nil {
		t.Fatal(err)
	}
	c.Close() // the process must survive the session

	var got []byte
	testenv.Wait(t, 15*time.Second, "the background process to write "+gotFile, func() bool {
		var err error
		got, err = os.ReadFile(gotFile)
		return err == nil
	})
	if string(got) != secret {
		t.Fatalf("process read %q from stdin, want the secret", got)
	}
	pidData, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(pidData)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p, err := os.FindProcess(pid); err == nil {
			p.Kill()
		}
	})
	// The shell reads stdin, then execs sleep: wait for the exec.
	var cl []byte
	testenv.Wait(t, 15*time.Second, fmt.Sprintf("background process %d to exec sleep", pid), func() bool {
		cl, err = os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		return err != nil || bytes.Contains(cl, []byte("sleep"))
	})
	if err != nil {
		t.Fatalf("background process %d is gone after the session closed: %v", pid, err)
	}
	if !bytes.Contains(cl, []byte("sleep")) {
		t.Errorf("cmdline of %d = %q, want sleep", pid, cl)
	}
	if bytes.Contains(cl, []byte(secret)) {
		t.Fatalf("secret in cmdline of %d: %q", pid, cl)
	}
	// No process on this machine carries the secret in its command line.
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, []byte(secret)) {
			t.Fatalf("secret in %s: %q", p, b)
		}
	}
	// Detached: its own session, not sshd's.
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err == nil {
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) > 3 && fields[3] != strconv.Itoa(pid) {
			t.Errorf("process %d is in session %s, want its own (setsid)", pid, fields[3])
		}
	}
}

// sharedKeyServers starts n sshd servers that all accept the first one's
// client key, and returns options whose known_hosts lists them all.
func sharedKeyServers(t *testing.T, n int, mk func(i int) testenv.SSHOptions) ([]*testenv.SSHServer, Options) {
	t.Helper()
	var srvs []*testenv.SSHServer
	var kh []string
	for i := 0; i < n; i++ {
		srvs = append(srvs, testenv.SSHD(t, mk(i)))
		kh = append(kh, srvs[i].KnownHostsLine)
	}
	pub, err := os.ReadFile(srvs[0].PrivateKeyFile + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range srvs[1:] {
		f, err := os.OpenFile(filepath.Join(s.Dir, "authorized_keys"), os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(pub)
		f.Close()
	}
	opts := keyOpts(t, srvs[0])
	if err := os.WriteFile(opts.KnownHostsFile, []byte(strings.Join(kh, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return srvs, opts
}

func deployFiles(t *testing.T) []File {
	dir := t.TempDir()
	bin, props := filepath.Join(dir, "ossimport"), filepath.Join(dir, "sys.properties")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho binary\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(props, []byte("workingDir=/x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return []File{{Local: bin, Remote: "bin/ossimport"}, {Local: props, Remote: "conf/sys.properties", Mode: 0o600}}
}

func TestDeployGoodAndBadHosts(t *testing.T) {
	srvs, opts := sharedKeyServers(t, 2, func(int) testenv.SSHOptions { return testenv.SSHOptions{} })
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	badPort := l.Addr().(*net.TCPAddr).Port
	l.Close()
	hosts := []config.WorkerHost{hostOf(srvs[0]), {Host: "127.0.0.1", Port: badPort}, hostOf(srvs[1])}

	work := filepath.Join(t.TempDir(), "workdir")
	opts.WorkingDir = work
	files := deployFiles(t)

	res := Deploy(testCtx(t), hosts, opts, files)
	var buf bytes.Buffer
	if err := FormatResults(&buf, res); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", buf.String())
	if len(res) != 3 {
		t.Fatalf("%d results", len(res))
	}
	for _, i := range []int{0, 2} {
		r := res[i]
		if r.Err != nil || len(r.Uploaded)+len(r.Skipped) != 2 {
			t.Fatalf("host %s: %+v", r.Addr, r)
		}
	}
	var ue *UnreachableError
	if !errors.As(res[1].Err, &ue) {
		t.Fatalf("bad host: %v", res[1].Err)
	}
	out := buf.String()
	if strings.Count(out, " OK ") != 2 || strings.Count(out, "FAILED") != 2 || !strings.Contains(out, "127.0.0.1:"+strconv.Itoa(badPort)) {
		t.Fatalf("table:\n%s", out)
	}
	if b, _ := os.ReadFile(filepath.Join(work, "bin", "ossimport")); string(b) != "#!/bin/sh\necho binary\n" {
		t.Fatalf("deployed binary = %q", b)
	}
	if st, err := os.Stat(filepath.Join(work, "conf", "sys.properties")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("sys.properties: %v %v", st, err)
	}
	if st, _ := os.Stat(filepath.Join(work, "bin", "ossimport")); st.Mode().Perm() != 0o755 {
		t.Fatalf("binary mode %v", st.Mode())
	}

	// Second run: nothing changed, everything skipped.
	res = Deploy(testCtx(t), hosts[:1], opts, files)
	if res[0].Err != nil || len(res[0].Skipped) != 2 || len(res[0].Uploaded) != 0 {
		t.Fatalf("second deploy: %+v", res[0])
	}
}

func TestFormatResults(t *testing.T) {
	res := []HostResult{
		{Addr: "10.0.0.1:22", Uploaded: []string{"a", "b"}, Duration: time.Second},
		{Addr: "[fd00::1]:2222", Err: errors.New("cannot reach\nit"), Duration: 2 * time.Second},
	}
	var buf bytes.Buffer
	if err := FormatResults(&buf, res); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("output:\n%s", buf.String())
	}
	col := strings.Index(lines[0], "RESULT")
	if strings.Index(lines[1], "OK") != col || strings.Index(lines[2], "FAILED") != col {
		t.Fatalf("columns not aligned:\n%s", buf.String())
	}
	if !strings.Contains(lines[2], "cannot reach it") || lines[3] != "deployed to 1 of 2 hosts; 1 FAILED" {
		t.Fatalf("output:\n%s", buf.String())
	}
}
