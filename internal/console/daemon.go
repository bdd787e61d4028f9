package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/master"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// The service's files in the working directory:
//
//	nats/          the embedded NATS server's JetStream store (0700); the
//	               service holds an exclusive lock on this folder while it
//	               runs, a console command while it uses the store itself
//	nats/token     the token clients authenticate with (0600)
//	ossimport.pid  the running service's process id (0644)
const (
	natsDirName   = "nats"
	tokenFileName = "token"
	pidFileName   = "ossimport.pid"
)

// Deadlines of the console verbs.
const (
	// lockWait bounds waiting for another console command (or a service
	// starting or stopping) to release the store.
	lockWait = 30 * time.Second
	// startWait bounds waiting for a started service to answer ping.
	startWait = 30 * time.Second
	// stopWait bounds waiting for a stopped service to exit before it is
	// killed.
	stopWait = 60 * time.Second
	// pollEvery is how often those waits look again.
	pollEvery = 100 * time.Millisecond
)

func natsDir(dir workdir.Dir) string   { return filepath.Join(string(dir), natsDirName) }
func tokenFile(dir workdir.Dir) string { return filepath.Join(natsDir(dir), tokenFileName) }
func pidFile(dir workdir.Dir) string   { return filepath.Join(string(dir), pidFileName) }

// errNotRunning is the answer of verbs that need the service.
var errNotRunning = errors.New("the service is not running: start it first with `console.sh start`")

// errStoreBusy: the store stayed locked by a process that is not a
// running service.
var errStoreBusy = errors.New("the NATS store is in use by another ossimport command")

// storeLock is the exclusive lock on the NATS store folder. The kernel
// releases it when its holder exits, however it exits, so a stale pid
// file never makes a dead service look alive.
type storeLock struct{ f *os.File }

// tryLock takes the store lock, or returns nil when another process
// holds it.
func tryLock(dir workdir.Dir) (*storeLock, error) {
	if err := os.MkdirAll(string(dir), 0o755); err != nil {
		return nil, fmt.Errorf("create the working directory (check workingDir in sys.properties): %w", err)
	}
	if err := os.MkdirAll(natsDir(dir), 0o700); err != nil {
		return nil, fmt.Errorf("create the NATS store folder (check workingDir in sys.properties): %w", err)
	}
	f, err := os.Open(natsDir(dir))
	if err != nil {
		return nil, fmt.Errorf("open the NATS store folder: %w", err)
	}
	locked, err := lockExclusive(f)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("lock the NATS store folder %s: %w", natsDir(dir), err)
	}
	if !locked {
		_ = f.Close()
		return nil, nil
	}
	return &storeLock{f: f}, nil
}

// release gives the lock up; a nil lock is fine.
func (l *storeLock) release() {
	if l != nil && l.f != nil {
		_ = l.f.Close()
		l.f = nil
	}
}

// probeService tells whether the service of dir runs: it returns the
// service's pid, or 0 and the store lock, held so that no service starts
// before the caller releases it. While another process holds the lock
// without being a running service (a console command using the store, a
// service starting or stopping), it waits up to wait.
func probeService(ctx context.Context, dir workdir.Dir, wait time.Duration) (int, *storeLock, error) {
	deadline := time.Now().Add(wait)
	for {
		lock, err := tryLock(dir)
		if err != nil {
			return 0, nil, err
		}
		if lock != nil {
			return 0, lock, nil
		}
		if pid := readPid(dir); processAlive(pid) {
			return pid, nil, nil
		}
		if !time.Now().Before(deadline) {
			return 0, nil, fmt.Errorf("%w (%s is locked; a service starting or stopping, or a submit or clean running): try again", errStoreBusy, natsDir(dir))
		}
		if err := transfer.Sleep(ctx, pollEvery); err != nil {
			return 0, nil, err
		}
	}
}

// waitStopped waits until no process holds the store lock, up to wait.
func waitStopped(ctx context.Context, dir workdir.Dir, wait time.Duration) bool {
	deadline := time.Now().Add(wait)
	for {
		lock, err := tryLock(dir)
		if err == nil && lock != nil {
			lock.release()
			return true
		}
		if !time.Now().Before(deadline) || transfer.Sleep(ctx, pollEvery) != nil {
			return false
		}
	}
}

// writePid records the service's pid (mode 0644, replaced atomically).
func writePid(dir workdir.Dir, pid int) error {
	tmp := pidFile(dir) + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		return fmt.Errorf("write the pid file: %w", err)
	}
	if err := os.Rename(tmp, pidFile(dir)); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write the pid file: %w", err)
	}
	return nil
}

// readPid returns the pid in the pid file, or 0.
func readPid(dir workdir.Dir) int { return readPidFile(pidFile(dir)) }

// removePid deletes the pid file if it still names pid (0: whatever it
// names; only for a holder of the store lock).
func removePid(dir workdir.Dir, pid int) {
	if got := readPid(dir); pid == 0 || got == pid {
		_ = os.Remove(pidFile(dir))
	}
}

// tailFile returns the last n lines of path written after offset (and
// within its last 64 KiB).
func tailFile(path string, offset int64, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	const window = 64 << 10
	if fi, err := f.Stat(); err == nil {
		offset = max(offset, fi.Size()-window, 0)
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return ""
	}
	data, _ := io.ReadAll(f)
	text := strings.TrimRight(string(data), "\n")
	if text == "" {
		return ""
	}
	lines := strings.Split(text, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// setupOptions are the bus settings every process of an installation
// passes to Setup (they come from sys.properties). Worker entries expire
// after three missed workerHeartbeatInterval beats.
func setupOptions(s *config.Sys) bus.SetupOptions {
	return bus.SetupOptions{AckWait: s.TaskAckWait, MaxDeliver: s.TaskMaxDeliver, HeartbeatInterval: s.WorkerHeartbeatInterval,
		Replicas: s.NATSReplicas}
}

// masterSetupOptions are the service's: it alone updates the streams'
// configuration (after a change of taskAckWait, say).
func masterSetupOptions(s *config.Sys) bus.SetupOptions {
	o := setupOptions(s)
	o.Update = true
	return o
}

// externalConn reaches the NATS cluster named by natsUrl.
func externalConn(s *config.Sys, name string) bus.ConnOptions {
	return bus.ConnOptions{URLs: strings.Join(s.NATSURLs, ","), CredsFile: s.NATSCredsFile, TLSCAFile: s.NATSTLSCAFile, Name: name}
}

// sharedConn reaches the NATS that outlives this working directory's
// service: natsUrl's cluster, or with natsEmbeddedCluster the servers of
// the first three hosts of conf/workers (with this working directory's
// token). ok is false for the single embedded server, which runs only
// with the service.
func sharedConn(s *config.Sys, dir workdir.Dir, name string) (o bus.ConnOptions, ok bool) {
	if len(s.NATSURLs) > 0 {
		return externalConn(s, name), true
	}
	if !s.NATSEmbeddedCluster {
		return o, false
	}
	c, err := loadCluster(s, "")
	if err != nil || c == nil {
		return o, false
	}
	urls, err := embeddedClusterURLs(s, &config.Workers{Hosts: c.hosts})
	if err != nil {
		return o, false
	}
	o = serviceConn(s, dir, name)
	o.URLs = strings.Join(urls, ",")
	return o, true
}

// serviceConn reaches the running service's NATS from this machine: the
// natsUrl cluster, or the embedded server on natsPort with the token file.
func serviceConn(s *config.Sys, dir workdir.Dir, name string) bus.ConnOptions {
	if len(s.NATSURLs) > 0 {
		return externalConn(s, name)
	}
	host := s.NATSListenAddr(false)
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	c, _ := loadCluster(s, "")
	t := tlsFiles(s, dir, c)
	return bus.ConnOptions{
		URLs:      t.scheme() + "://" + net.JoinHostPort(host, strconv.Itoa(s.NATSPort)),
		CredsFile: tokenFile(dir), TLSCAFile: t.ca, Name: name,
	}
}

// connectService connects to the running service's NATS, trying again
// while it is unreachable (a service still starting) up to wait.
func connectService(ctx context.Context, s *config.Sys, dir workdir.Dir, wait time.Duration) (*bus.Bus, error) {
	o := serviceConn(s, dir, "ossimport-console")
	deadline := time.Now().Add(wait)
	for {
		b, err := bus.Connect(ctx, o)
		if err == nil || !errors.Is(err, bus.ErrUnreachable) || !time.Now().Before(deadline) {
			return b, err
		}
		if err := transfer.Sleep(ctx, 200*time.Millisecond); err != nil {
			return nil, err
		}
	}
}

// session is a console command's connection to the service's bus: the
// running service's NATS, or, when the service is stopped, a temporary
// in-process server on the same store (the store lock is then held until
// close, so the service cannot start on it meanwhile).
type session struct {
	bus *bus.Bus
	// pid is the running service's, 0 when it is stopped.
	pid  int
	srv  *bus.Server
	lock *storeLock
	set  bool
	// shared: the bus is natsUrl's or natsEmbeddedCluster's, where a
	// master may run while this working directory's service does not.
	shared bool
}

// openSession connects to the service's bus; with needService it fails
// with errNotRunning when the service is stopped.
func openSession(ctx context.Context, s *config.Sys, needService bool) (*session, error) {
	dir := workdir.Dir(s.WorkingDir)
	pid, lock, err := probeService(ctx, dir, lockWait)
	if err != nil {
		return nil, err
	}
	se := &session{pid: pid, lock: lock}
	sharedOpts, shared := sharedConn(s, dir, "ossimport-console")
	se.shared = shared
	switch {
	case pid > 0:
		se.bus, err = connectService(ctx, s, dir, 10*time.Second)
	case needService:
		lock.release()
		return nil, errNotRunning
	case shared:
		se.bus, err = bus.Connect(ctx, sharedOpts)
		if err != nil && s.NATSEmbeddedCluster {
			err = fmt.Errorf("no NATS server of natsEmbeddedCluster answers (%s): start the service first with `console.sh start`, which starts them on the first three hosts of conf/workers: %w", sharedOpts.URLs, err)
		}
	default:
		se.srv, err = bus.StartServer(bus.ServerOptions{Dir: natsDir(dir), TokenFile: tokenFile(dir), InProcessOnly: true})
		if err == nil {
			se.bus, err = bus.Connect(ctx, bus.ConnOptions{Server: se.srv, Name: "ossimport-console"})
		}
	}
	if err != nil {
		se.close()
		return nil, err
	}
	return se, nil
}

// store makes the streams and buckets usable on this connection.
func (se *session) store(ctx context.Context, s *config.Sys) error {
	if se.set {
		return nil
	}
	if err := se.bus.Setup(ctx, setupOptions(s)); err != nil {
		return err
	}
	se.set = true
	return nil
}

// request sends a control verb to the running service's master.
func (se *session) request(ctx context.Context, verb string, data []byte) (master.Reply, error) {
	var r master.Reply
	out, err := se.bus.Request(ctx, verb, data)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return r, fmt.Errorf("undecodable reply to %s: %w", verb, err)
	}
	return r, nil
}

// toMaster sends a control verb to the active master when one can run:
// this working directory's service (standby or not), or one on natsUrl's
// cluster. sent is false, with no error, when none runs, and the caller
// acts itself.
func (se *session) toMaster(ctx context.Context, verb string, data []byte) (r master.Reply, sent bool, err error) {
	if se.pid == 0 && !se.shared {
		return r, false, nil
	}
	r, err = se.request(ctx, verb, data)
	if se.pid == 0 && errors.Is(err, bus.ErrNoMaster) {
		return r, false, nil
	}
	return r, true, err
}

// close disconnects, stops a temporary server and releases the lock.
func (se *session) close() {
	if se.bus != nil {
		se.bus.Close()
	}
	if se.srv != nil {
		se.srv.Shutdown()
	}
	se.lock.release()
}

// pingService reports the pid of a running service that answers ping.
func pingService(ctx context.Context, s *config.Sys, dir workdir.Dir) (int, bool) {
	pid, lock, err := probeService(ctx, dir, 0)
	lock.release()
	if err != nil || pid == 0 {
		return 0, false
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	o := serviceConn(s, dir, "ossimport-console")
	o.Timeout = 2 * time.Second
	b, err := bus.Connect(ctx, o)
	if err != nil {
		return pid, false
	}
	defer b.Close()
	_, err = b.RequestService(ctx, serviceID(pid), master.VerbPing, nil)
	return pid, err == nil
}
