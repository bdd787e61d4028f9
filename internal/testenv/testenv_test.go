package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// TestMain checks, after all tests, that every server and namespace started
// here was cleaned up.
func TestMain(m *testing.M) {
	code := m.Run()
	if left := leftovers(); left != "" {
		fmt.Fprintf(os.Stderr, "testenv: left behind after the tests:\n%s", left)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// leftovers lists child processes of this test binary and network
// namespaces or links named after its pid.
func leftovers() string {
	var b strings.Builder
	self := strconv.Itoa(os.Getpid())
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range procs {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		s := string(data)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) > 1 && f[1] == self && f[0] != "Z" {
			fmt.Fprintf(&b, "  process %s\n", s[:i+1])
		}
	}
	id := fmt.Sprintf("%05s", strconv.FormatInt(int64(os.Getpid()), 36))
	id = strings.ReplaceAll(id, " ", "0")
	entries, _ := os.ReadDir("/run/netns")
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), nsPrefix+id) {
			fmt.Fprintf(&b, "  netns %s\n", e.Name())
		}
	}
	ifaces, _ := net.Interfaces()
	for _, ifc := range ifaces {
		if strings.HasPrefix(ifc.Name, bridgePrefix+id) || strings.HasPrefix(ifc.Name, vethPrefix+id) {
			fmt.Fprintf(&b, "  link %s\n", ifc.Name)
		}
	}
	return b.String()
}

func TestVersityGW(t *testing.T) {
	t.Parallel()
	srv := VersityGW(t)
	if srv.Region != "us-east-1" || !strings.HasPrefix(srv.Endpoint, "http://127.0.0.1:") {
		t.Fatalf("unexpected server %+v", srv)
	}
	ctx := context.Background()
	c := srv.Client(t)

	bucket := srv.CreateBucket(t, "")
	named := srv.CreateBucket(t, "named-bucket")
	if named != "named-bucket" {
		t.Fatalf("CreateBucket returned %q", named)
	}
	key := "dir/sub/hello.txt"
	body := []byte("hello from ossimport testenv\n")
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	got, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("GetObject body %q, %v; want %q", got, err, body)
	}
	onDisk, err := os.ReadFile(filepath.Join(srv.Root, bucket, "dir", "sub", "hello.txt"))
	if err != nil || !bytes.Equal(onDisk, body) {
		t.Fatalf("file on disk: %q, %v; want %q", onDisk, err, body)
	}
	if srv.ObjectPath(bucket, key) != filepath.Join(srv.Root, bucket, "dir/sub/hello.txt") {
		t.Fatalf("ObjectPath = %s", srv.ObjectPath(bucket, key))
	}

	// Wrong credentials are rejected: the server really checks signatures.
	bad := *srv
	bad.SecretKey = "wrong-secret"
	if _, err := bad.Client(t).ListBuckets(ctx, &s3.ListBucketsInput{}); err == nil {
		t.Fatal("ListBuckets with a wrong secret succeeded")
	}
}

// TestStartVersityGWStop checks the TestMain-style API and that stop really
// stops the server and removes its files.
func TestStartVersityGWStop(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), Scale(5*time.Minute))
	defer cancel()
	srv, stop, err := StartVersityGW(ctx, WithCredentials("custom-ak", "custom-secret-key"))
	if err != nil {
		if errors.Is(err, ErrUnavailable) && !InCI() {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	if srv.AccessKey != "custom-ak" {
		t.Fatalf("AccessKey = %q", srv.AccessKey)
	}
	if _, err := srv.Client(t).ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
		t.Fatalf("ListBuckets: %v", err)
	}
	stop()
	stop() // idempotent
	addr := strings.TrimPrefix(srv.Endpoint, "http://")
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatalf("%s still accepts connections after stop", addr)
	}
	if _, err := os.Stat(srv.Root); !os.IsNotExist(err) {
		t.Fatalf("root %s still exists after stop (%v)", srv.Root, err)
	}
}

func TestMinIO(t *testing.T) {
	t.Parallel()
	srv := MinIO(t) // skips unless OSSIMPORT_TEST_MINIO=1
	ctx := context.Background()
	bucket := srv.CreateBucket(t, "")
	c := srv.Client(t)
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("k"), Body: strings.NewReader("v")}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("k")})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	got, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if string(got) != "v" {
		t.Fatalf("got %q", got)
	}
}

func runSSH(t *testing.T, c *ssh.Client, cmd string) string {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatalf("new session: %v", err)
	}
	defer s.Close()
	out, err := s.CombinedOutput(cmd)
	if err != nil {
		t.Fatalf("run %q: %v: %s", cmd, err, out)
	}
	return string(out)
}

func TestSSHD(t *testing.T) {
	t.Parallel()
	srv := SSHD(t, SSHOptions{})

	// KnownHostsLine must name this server and carry its host key.
	marker, hosts, key, _, _, err := ssh.ParseKnownHosts([]byte(srv.KnownHostsLine))
	if err != nil || marker != "" || len(hosts) != 1 || hosts[0] != knownhosts.Normalize(srv.Addr) {
		t.Fatalf("KnownHostsLine %q: hosts %v, marker %q, err %v", srv.KnownHostsLine, hosts, marker, err)
	}
	if !bytes.Equal(key.Marshal(), srv.HostKey.Marshal()) {
		t.Fatal("KnownHostsLine key differs from HostKey")
	}

	// Connect with the key file and a known_hosts callback built from the line.
	pemBytes, err := os.ReadFile(srv.PrivateKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	khFile := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(khFile, []byte(srv.KnownHostsLine+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hostKeyCB, err := knownhosts.New(khFile)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ssh.Dial("tcp", srv.Addr, &ssh.ClientConfig{
		User: srv.User, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: hostKeyCB, Timeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	if out := runSSH(t, c, "echo ok"); out != "ok\n" {
		t.Fatalf("echo ok printed %q", out)
	}

	// A different host key is refused by the same known_hosts line.
	other := SSHD(t, SSHOptions{})
	otherCB, err := knownhosts.New(khFile)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ssh.Dial("tcp", other.Addr, &ssh.ClientConfig{
		User: other.User, Auth: []ssh.AuthMethod{ssh.PublicKeys(other.Signer())},
		HostKeyCallback: otherCB, Timeout: 10 * time.Second,
	})
	if err == nil {
		t.Fatal("dial to a server missing from known_hosts succeeded")
	}

	// The helper Dial and the sftp subsystem work too.
	c2 := srv.Dial(t)
	s, err := c2.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RequestSubsystem("sftp"); err != nil {
		t.Fatalf("sftp subsystem: %v", err)
	}
	s.Close()

	// The files work with the real OpenSSH client.
	if sshBin, err := exec.LookPath("ssh"); err == nil {
		out, err := exec.Command(sshBin, "-p", strconv.Itoa(srv.Port), "-i", srv.PrivateKeyFile,
			"-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
			"-o", "UserKnownHostsFile="+srv.KnownHostsFile, "-o", "GlobalKnownHostsFile=/dev/null",
			"-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=10",
			srv.User+"@"+srv.Host, "echo", "openssh-ok").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "openssh-ok") {
			t.Fatalf("ssh client: %v: %s", err, out)
		}
	}
}

func TestSSHDPassword(t *testing.T) {
	t.Parallel()
	const pw = "Pw-for-ossimport-tests-1"
	srv := SSHD(t, SSHOptions{Password: pw})
	if srv.User != SSHTestUser {
		t.Fatalf("User = %q, want %q", srv.User, SSHTestUser)
	}
	dial := func(pass string) (*ssh.Client, error) {
		return ssh.Dial("tcp", srv.Addr, &ssh.ClientConfig{
			User: srv.User, Auth: []ssh.AuthMethod{ssh.Password(pass)},
			HostKeyCallback: ssh.FixedHostKey(srv.HostKey), Timeout: 10 * time.Second,
		})
	}
	c, err := dial(pw)
	if err != nil {
		t.Fatalf("password login: %v", err)
	}
	defer c.Close()
	if out := runSSH(t, c, "id -un"); strings.TrimSpace(out) != SSHTestUser {
		t.Fatalf("id -un = %q", out)
	}
	if c, err := dial("wrong password"); err == nil {
		c.Close()
		t.Fatal("login with a wrong password succeeded")
	}
	// The client key is authorised for the test user too.
	if out := runSSH(t, srv.Dial(t), "echo key-ok"); out != "key-ok\n" {
		t.Fatalf("key login printed %q", out)
	}
}

func TestAzurite(t *testing.T) {
	t.Parallel()
	az := Azurite(t)
	if az.Account != "devstoreaccount1" || !strings.HasSuffix(az.Endpoint, "/devstoreaccount1") {
		t.Fatalf("unexpected server %+v", az)
	}
	ctx := context.Background()
	cont := az.CreateContainer(t, "")
	if got := az.CreateContainer(t, "named-container"); got != "named-container" {
		t.Fatalf("CreateContainer returned %q", got)
	}
	c := az.Client(t)
	body := bytes.Repeat([]byte("azure blob bytes "), 1000)
	if _, err := c.UploadBuffer(ctx, cont, "a/b.txt", body, nil); err != nil {
		t.Fatalf("UploadBuffer: %v", err)
	}
	resp, err := c.DownloadStream(ctx, cont, "a/b.txt", nil)
	if err != nil {
		t.Fatalf("DownloadStream: %v", err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("downloaded %d bytes (%v), want %d", len(got), err, len(body))
	}
}

func TestNetworkHosts(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root")
	}
	t.Parallel()
	hosts := NetworkHosts(t, 3)
	servers := make([]*SSHServer, len(hosts))
	for i, h := range hosts {
		if i > 0 && !strings.HasPrefix(h.IP, strings.TrimSuffix(hosts[0].IP, "2")) {
			t.Fatalf("hosts on different subnets: %s, %s", hosts[0].IP, h.IP)
		}
		servers[i] = SSHD(t, SSHOptions{ListenAddr: h.IP, NetNS: h.NS})
		if servers[i].Addr != h.IP+":22" {
			t.Fatalf("sshd address %s, want %s:22", servers[i].Addr, h.IP)
		}
	}

	// whoami prints the namespace sshd runs in and the address it serves on:
	// the test network's equivalent of `hostname`.
	const whoami = "ip netns identify; echo $SSH_CONNECTION"
	check := func(i int) error {
		cfg := servers[i].ClientConfig(t)
		cfg.Timeout = 3 * time.Second
		c, err := ssh.Dial("tcp", servers[i].Addr, cfg)
		if err != nil {
			return err
		}
		defer c.Close()
		out := runSSH(t, c, whoami)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 2 || lines[0] != hosts[i].NS {
			t.Fatalf("%s: %q printed %q, want namespace %s", hosts[i].Name, whoami, out, hosts[i].NS)
		}
		// SSH_CONNECTION = client_ip client_port server_ip server_port
		f := strings.Fields(lines[1])
		if len(f) != 4 || f[0] != hosts[i].RootIP || f[2] != hosts[i].IP {
			t.Fatalf("%s: SSH_CONNECTION %q, want client %s server %s", hosts[i].Name, lines[1], hosts[i].RootIP, hosts[i].IP)
		}
		return nil
	}
	for i := range hosts {
		if err := check(i); err != nil {
			t.Fatalf("connect to %s: %v", hosts[i].Name, err)
		}
	}

	// Host to host: host1 reaches host2's sshd with the OpenSSH client.
	hostToHost := func() ([]byte, error) {
		ctx, cancel := context.WithTimeout(context.Background(), Scale(20*time.Second))
		defer cancel()
		s := servers[1]
		return hosts[0].Command(ctx, "ssh", "-i", s.PrivateKeyFile,
			"-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
			"-o", "UserKnownHostsFile="+s.KnownHostsFile, "-o", "GlobalKnownHostsFile=/dev/null",
			"-o", "ConnectTimeout=3", "-o", "IdentitiesOnly=yes",
			s.User+"@"+s.Host, "ip netns identify").CombinedOutput()
	}
	if _, err := exec.LookPath("ssh"); err == nil {
		out, err := hostToHost()
		if err != nil || strings.TrimSpace(string(out)) != hosts[1].NS {
			t.Fatalf("host1 -> host2: %v: %q", err, out)
		}
	}

	hosts[1].LinkDown(t)
	if err := check(1); err == nil {
		t.Fatal("connect to host2 with its link down succeeded")
	} else {
		t.Logf("link down: connect failed as expected: %v", err)
	}
	if _, err := exec.LookPath("ssh"); err == nil {
		if out, err := hostToHost(); err == nil {
			t.Fatalf("host1 -> host2 with host2's link down succeeded: %q", out)
		}
	}
	if err := check(2); err != nil { // other hosts are unaffected
		t.Fatalf("host3 while host2 is down: %v", err)
	}

	hosts[1].LinkUp(t)
	var err error
	WaitEvery(t, 10*time.Second, 100*time.Millisecond, "a connection to host2 after link up", func() bool {
		err = check(1)
		return err == nil
	}, func() string { return fmt.Sprint(err) })
	if err != nil {
		t.Fatalf("connect to host2 after link up: %v", err)
	}
}

func TestChromiumPath(t *testing.T) {
	t.Parallel()
	p := ChromiumPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), Scale(time.Minute))
	defer cancel()
	out, err := exec.CommandContext(ctx, p, "--version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Chromium") {
		t.Fatalf("%s --version: %v: %s", p, err, out)
	}
}
