package bus

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
)

// grepDir returns the files under dir holding needle.
func grepDir(t *testing.T, dir string, needle []byte) []string {
	t.Helper()
	var hits []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(data, needle) {
			hits = append(hits, path)
		}
		return nil
	})
	must(t, err)
	return hits
}

// TestStoreSealed: a submitted job's config (with its secret) and a task
// are stored, and no file of the store holds the secret's bytes; the key
// is generated 0600 next to the token file and reused on restart, where
// the job is still readable.
func TestStoreSealed(t *testing.T) {
	opts := serverOpts(t)
	secret := []byte("srcSecretKey=Sup3rS3cretValue-9f1c2e")
	srv := startServer(t, opts)
	b := connect(t, srv, SetupOptions{})
	must(t, b.CreateJob(tctx(t), "job1", append([]byte("srcAccessKey=id\n"), secret...)))
	must(t, b.PublishTask(tctx(t), "job1", "T1", secret))
	b.Close()
	srv.Shutdown() // flushes every block to disk
	if hits := grepDir(t, opts.Dir, secret); len(hits) > 0 {
		t.Fatalf("the secret is in clear in %v", hits)
	}
	if hits := grepDir(t, opts.Dir, []byte("srcAccessKey")); len(hits) > 0 {
		t.Fatalf("the job config is in clear in %v", hits)
	}
	key := filepath.Join(filepath.Dir(opts.TokenFile), StoreKeyFileName)
	fi, err := os.Stat(key)
	must(t, err)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("store key mode %#o, want 0600", fi.Mode().Perm())
	}
	before, _ := os.ReadFile(key)
	srv = startServer(t, opts)
	b = connect(t, srv, SetupOptions{})
	got, err := b.Jobs().Get(tctx(t), "job1")
	must(t, err)
	if !bytes.Contains(got, secret) {
		t.Fatalf("job after a restart: %q", got)
	}
	if after, _ := os.ReadFile(key); !bytes.Equal(before, after) {
		t.Error("the store key changed across restarts")
	}
}

// TestStoreSealedMissingKey: an encrypted store whose key file is gone is
// refused with what to do, not opened with a new key.
func TestStoreSealedMissingKey(t *testing.T) {
	opts := serverOpts(t)
	srv := startServer(t, opts)
	connect(t, srv, SetupOptions{}).Close()
	srv.Shutdown()
	must(t, os.Remove(filepath.Join(filepath.Dir(opts.TokenFile), StoreKeyFileName)))
	_, err := StartServer(opts)
	t.Log(err)
	if err == nil || !strings.Contains(err.Error(), "restore the key file") {
		t.Fatalf("err = %v, want the missing key reported", err)
	}
}

// TestStoreSealedMigratesPlainStore: a store written unencrypted (by an
// earlier version: buckets, a task queue and its consumer's state) opens
// with the new key and keeps working (the job is read, the acked task
// stays acked, the next is delivered), and its secret is no longer in
// clear once the server has loaded and stopped.
func TestStoreSealedMigratesPlainStore(t *testing.T) {
	opts := serverOpts(t)
	secret := []byte("destSecretKey=Old-Plain-Value-77aa")
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: opts.Dir, NoSigs: true})
	must(t, err)
	ns.Start()
	if !ns.ReadyForConnections(testTimeout) {
		t.Fatal("plain server did not start")
	}
	plain, err := Connect(tctx(t), ConnOptions{URLs: ns.ClientURL()})
	must(t, err)
	must(t, plain.Setup(tctx(t), SetupOptions{Update: true}))
	must(t, plain.Jobs().Put(tctx(t), "old", secret))
	must(t, plain.PublishTask(tctx(t), "oldjob", "T1", []byte("task-"+string(secret))))
	must(t, plain.PublishTask(tctx(t), "oldjob", "T2", []byte("task2")))
	first := next(t, plain, "w") // the consumer exists and has state
	must(t, first.Ack())
	plain.Close()
	ns.Shutdown()
	ns.WaitForShutdown()
	if len(grepDir(t, opts.Dir, secret)) == 0 {
		t.Fatal("test setup: the plain store does not hold the secret in clear")
	}

	srv := startServer(t, opts)
	b := connect(t, srv, SetupOptions{Update: true})
	got, err := b.Jobs().Get(tctx(t), "old")
	must(t, err)
	if !bytes.Equal(got, secret) {
		t.Fatalf("value in the migrated store: %q", got)
	}
	if m := next(t, b, "w"); m.TaskID != "T2" || string(mustData(t, m)) != "task2" {
		t.Fatalf("task after the migration: %s %q, want T2 (T1 was acked before)", m.TaskID, mustData(t, m))
	}
	must(t, b.Jobs().Put(tctx(t), "new", []byte("new-"+string(secret))))
	b.Close()
	srv.Shutdown()
	hits := grepDir(t, opts.Dir, []byte("new-"+string(secret)))
	if len(hits) > 0 {
		t.Errorf("a value written after the migration is in clear in %v", hits)
	}
	if hits := grepDir(t, opts.Dir, secret); len(hits) > 0 {
		t.Errorf("a value written before the migration is still in clear in %v", hits)
	}
}
