package deploy

import (
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

func TestAppendKnownHostUnterminatedFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(file, []byte("# no newline at end"), 0o600); err != nil {
		t.Fatal(err)
	}
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	key, _ := ssh.NewPublicKey(pub)
	if err := appendKnownHost(file, "10.0.0.5:2222", key); err != nil {
		t.Fatal(err)
	}
	if err := appendKnownHost(file, "10.0.0.6:22", key); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(file)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "[10.0.0.5]:2222 ssh-ed25519 ") || !strings.HasPrefix(lines[2], "10.0.0.6 ssh-ed25519 ") {
		t.Fatalf("known_hosts:\n%s", data)
	}
}

func TestRemoteWorkDir(t *testing.T) {
	for in, want := range map[string]string{
		"":               "",
		"~":              ".",
		"~/ossimport/wd": "ossimport/wd",
		"/data/wd/":      "/data/wd",
		"wd/./x":         "wd/x",
	} {
		if got := remoteWorkDir(in); got != want {
			t.Errorf("remoteWorkDir(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestShellQuote(t *testing.T) {
	if got := shellQuote(`it's $x`); got != `'it'\''s $x'` {
		t.Fatalf("shellQuote = %s", got)
	}
}
