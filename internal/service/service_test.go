package service

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/workdir"
)

// TestProbeTakesTheStoreLock: with no service, Probe hands out the store
// lock; while it is held, another Probe that cannot wait says the store
// is busy; once the holder records its pid, Probe names it as the
// running service; after Release the lock is free again.
func TestProbeTakesTheStoreLock(t *testing.T) {
	ctx := context.Background()
	dir := workdir.Dir(t.TempDir())
	pid, lock, err := Probe(ctx, dir, 0)
	if err != nil || pid != 0 || lock == nil {
		t.Fatalf("no service: pid %d, lock %v, err %v; want the lock", pid, lock, err)
	}
	if fi, err := os.Stat(dir.NATS()); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("the store folder: %v, %v; want mode 0700", fi, err)
	}
	if _, other, err := Probe(ctx, dir, 0); err == nil || other != nil || !strings.Contains(err.Error(), "in use by another ossimport command") {
		t.Fatalf("while locked without a pid file: lock %v, err %v; want the store busy", other, err)
	}
	if err := writePid(dir, os.Getpid()); err != nil {
		t.Fatal(err)
	}
	if got, other, err := Probe(ctx, dir, 0); err != nil || other != nil || got != os.Getpid() {
		t.Fatalf("while locked with this process's pid: pid %d, lock %v, err %v; want pid %d", got, other, err, os.Getpid())
	}
	RemovePid(dir, os.Getpid()+1) // names another process: kept
	if ReadPid(dir) != os.Getpid() {
		t.Fatal("RemovePid removed a pid file naming another process")
	}
	RemovePid(dir, os.Getpid())
	if _, err := os.Stat(dir.Pid()); !os.IsNotExist(err) {
		t.Fatalf("pid file after RemovePid: %v", err)
	}
	lock.Release()
	lock.Release() // twice is fine
	_, again, err := Probe(ctx, dir, 0)
	if err != nil || again == nil {
		t.Fatalf("after Release: lock %v, err %v; want the lock", again, err)
	}
	again.Release()
}

// TestWorkerLockRefusesASecondWorker: one worker of a name per working
// directory; its pid file names it while it runs and goes when it
// stops.
func TestWorkerLockRefusesASecondWorker(t *testing.T) {
	dir := workdir.Dir(t.TempDir())
	if pid, err := WorkerRunning(dir, "w 1"); err != nil || pid != 0 {
		t.Fatalf("before: pid %d, err %v; want none running", pid, err)
	}
	l, other, err := LockWorker(dir, "w 1")
	if err != nil || l == nil || other != 0 {
		t.Fatalf("first worker: lock %v, other %d, err %v", l, other, err)
	}
	if filepath.Base(WorkerPidPath(dir, "w 1")) != "worker-w_1.pid" {
		t.Fatalf("pid file %s: want worker-w_1.pid", WorkerPidPath(dir, "w 1"))
	}
	second, other, err := LockWorker(dir, "w 1")
	if err != nil || second != nil || other != os.Getpid() {
		t.Fatalf("second worker: lock %v, other %d, err %v; want refused, naming pid %d", second, other, err, os.Getpid())
	}
	if pid, err := WorkerRunning(dir, "w 1"); err != nil || pid != os.Getpid() {
		t.Fatalf("running: pid %d, err %v", pid, err)
	}
	l.Release()
	if _, err := os.Stat(WorkerPidPath(dir, "w 1")); !os.IsNotExist(err) {
		t.Fatalf("pid file after Release: %v", err)
	}
	if pid, err := WorkerRunning(dir, "w 1"); err != nil || pid != 0 {
		t.Fatalf("after Release: pid %d, err %v; want none running", pid, err)
	}
}

// TestOptionsValidate: the engine and the local service refuse to run
// without settings, with the exit status of a start that cannot begin.
func TestOptionsValidate(t *testing.T) {
	if err := (Options{}).Validate(); err == nil {
		t.Fatal("Options without Sys is valid")
	}
	_, err := Open(context.Background(), Options{})
	var se *Error
	if !errors.As(err, &se) || se.Code != 2 {
		t.Fatalf("Open without Sys: %v; want an *Error with code 2", err)
	}
	if err := (Local{Sys: config.DefaultSys()}).Validate(); err == nil {
		t.Fatal("Local without writers is valid")
	}
	if err := (Local{Sys: config.DefaultSys()}).Stop(context.Background(), 0); !errors.As(err, &se) || se.Code != 2 {
		t.Fatalf("Stop of an invalid Local: %v; want an *Error with code 2", err)
	}
}

// TestClusterTopology: what conf/workers makes of this machine and the
// others, with natsEmbeddedCluster: the remote hosts among the first
// three are members (a NATS server and a standby service each), the
// rest run only a worker; this machine's worker is named after its
// line, and the generated certificate names the three servers.
func TestClusterTopology(t *testing.T) {
	conf := t.TempDir()
	workers := filepath.Join(conf, "workers")
	if err := os.WriteFile(workers, []byte("127.0.0.1\n10.0.0.2\n10.0.0.3\n10.0.0.4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, diags := config.ParseSys(filepath.Join(conf, "sys.properties"), []byte("workingDir="+t.TempDir()+"\nnatsEmbeddedCluster=true\n"))
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	c, err := LoadCluster(s, "")
	if err != nil || c == nil || c.Workers != workers {
		t.Fatalf("LoadCluster: %+v, %v; want the workers file next to sys.properties", c, err)
	}
	hosts := func(hs []config.WorkerHost) []string {
		var out []string
		for _, h := range hs {
			out = append(out, h.Host)
		}
		return out
	}
	if !c.Distributed() || !c.Embedded() || c.Master.Host != "127.0.0.1" {
		t.Fatalf("distributed %v, embedded %v, master %s", c.Distributed(), c.Embedded(), c.Master.Host)
	}
	if got := hosts(c.Members()); !slices.Equal(got, []string{"10.0.0.2", "10.0.0.3"}) {
		t.Fatalf("members %v", got)
	}
	if got := hosts(c.WorkerHosts()); !slices.Equal(got, []string{"10.0.0.4"}) {
		t.Fatalf("worker hosts %v", got)
	}
	if m := c.Mode(s); !m.distributed || m.worker != "127.0.0.1" {
		t.Fatalf("mode %+v: want distributed, the worker named after this machine's line", m)
	}
	if got := c.ServerHosts(); !slices.Equal(got, []string{"127.0.0.1", "10.0.0.2", "10.0.0.3"}) {
		t.Fatalf("server hosts %v", got)
	}
	if !AutoTLSOn(s, c) || TLSFiles(s, workdir.Dir(s.WorkingDir), c).scheme() != "tls" {
		t.Fatal("natsAutoTls is on by default between machines")
	}
	nats, err := c.WorkerNATS()
	if err != nil || nats != "tls://127.0.0.1:4222,tls://10.0.0.2:4222,tls://10.0.0.3:4222" {
		t.Fatalf("workers' NATS %q, %v", nats, err)
	}

	alone, _ := config.ParseSys(filepath.Join(t.TempDir(), "conf", "sys.properties"), []byte("workingDir=/srv/x\n"))
	c, err = LoadCluster(alone, "")
	if err != nil || c != nil {
		t.Fatalf("no workers file: %+v, %v; want nil", c, err)
	}
	if m := c.Mode(alone); m.distributed || m.worker != LocalWorkerName(alone) || !strings.HasPrefix(m.why, "standalone") {
		t.Fatalf("standalone mode %+v", m)
	}
}
