package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/master"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// SetupOptions are the bus settings every process of an installation
// passes to Setup (they come from sys.properties). Worker entries expire
// after three missed workerHeartbeatInterval beats.
func SetupOptions(s *config.Sys) bus.SetupOptions {
	return bus.SetupOptions{AckWait: s.TaskAckWait, MaxDeliver: s.TaskMaxDeliver, HeartbeatInterval: s.WorkerHeartbeatInterval,
		Replicas: s.NATSReplicas}
}

// masterSetupOptions are the service's: it alone updates the streams'
// configuration (after a change of taskAckWait, say).
func masterSetupOptions(s *config.Sys) bus.SetupOptions {
	o := SetupOptions(s)
	o.Update = true
	return o
}

// ExternalConn reaches the NATS cluster named by natsUrl.
func ExternalConn(s *config.Sys, name string) bus.ConnOptions {
	return bus.ConnOptions{URLs: strings.Join(s.NATSURLs, ","), CredsFile: s.NATSCredsFile, TLSCAFile: s.NATSTLSCAFile, Name: name}
}

// SharedConn reaches the NATS that outlives this working directory's
// service: natsUrl's cluster, or with natsEmbeddedCluster the servers of
// the first three hosts of conf/workers (with this working directory's
// token). ok is false for the single embedded server, which runs only
// with the service.
func SharedConn(s *config.Sys, dir workdir.Dir, name string) (o bus.ConnOptions, ok bool) {
	if len(s.NATSURLs) > 0 {
		return ExternalConn(s, name), true
	}
	if !s.NATSEmbeddedCluster {
		return o, false
	}
	c, err := LoadCluster(s, "")
	if err != nil || c == nil {
		return o, false
	}
	urls, err := EmbeddedClusterURLs(s, &config.Workers{Hosts: c.Hosts})
	if err != nil {
		return o, false
	}
	o = Conn(s, dir, name)
	o.URLs = strings.Join(urls, ",")
	return o, true
}

// Conn reaches the running service's NATS from this machine: the
// natsUrl cluster, or the embedded server on natsPort with the token file.
func Conn(s *config.Sys, dir workdir.Dir, name string) bus.ConnOptions {
	if len(s.NATSURLs) > 0 {
		return ExternalConn(s, name)
	}
	host := s.NATSListenAddr(false)
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	c, _ := LoadCluster(s, "")
	t := TLSFiles(s, dir, c)
	return bus.ConnOptions{
		URLs:      t.scheme() + "://" + net.JoinHostPort(host, strconv.Itoa(s.NATSPort)),
		CredsFile: dir.Token(), TLSCAFile: t.CA, Name: name,
	}
}

// connect connects to the running service's NATS, trying again while it
// is unreachable (a service still starting) up to wait.
func connect(ctx context.Context, s *config.Sys, dir workdir.Dir, wait time.Duration) (*bus.Bus, error) {
	o := Conn(s, dir, "ossimport-console")
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

// Session is a console command's connection to the service's bus: the
// running service's NATS, or, when the service is stopped, a temporary
// in-process server on the same store (the store lock is then held until
// Close, so the service cannot start on it meanwhile).
type Session struct {
	Bus *bus.Bus
	// Pid is the running service's, 0 when it is stopped.
	Pid  int
	srv  *bus.Server
	lock *Lock
	set  bool
	// shared: the bus is natsUrl's or natsEmbeddedCluster's, where a
	// master may run while this working directory's service does not.
	shared bool
}

// OpenSession connects to the service's bus; with needService it fails
// with ErrNotRunning when the service is stopped.
func OpenSession(ctx context.Context, s *config.Sys, needService bool) (*Session, error) {
	dir := workdir.Dir(s.WorkingDir)
	pid, lock, err := Probe(ctx, dir, LockWait)
	if err != nil {
		return nil, err
	}
	se := &Session{Pid: pid, lock: lock}
	sharedOpts, shared := SharedConn(s, dir, "ossimport-console")
	se.shared = shared
	switch {
	case pid > 0:
		se.Bus, err = connect(ctx, s, dir, 10*time.Second)
	case needService:
		lock.Release()
		return nil, ErrNotRunning
	case shared:
		se.Bus, err = bus.Connect(ctx, sharedOpts)
		if err != nil && s.NATSEmbeddedCluster {
			err = fmt.Errorf("no NATS server of natsEmbeddedCluster answers (%s): start the service first with `console.sh start`, which starts them on the first three hosts of conf/workers: %w", sharedOpts.URLs, err)
		}
	default:
		se.srv, err = bus.StartServer(bus.ServerOptions{Dir: dir.NATS(), TokenFile: dir.Token(), InProcessOnly: true})
		if err == nil {
			se.Bus, err = bus.Connect(ctx, bus.ConnOptions{Server: se.srv, Name: "ossimport-console"})
		}
	}
	if err != nil {
		se.Close()
		return nil, err
	}
	return se, nil
}

// Store makes the streams and buckets usable on this connection.
func (se *Session) Store(ctx context.Context, s *config.Sys) error {
	if se.set {
		return nil
	}
	if err := se.Bus.Setup(ctx, SetupOptions(s)); err != nil {
		return err
	}
	se.set = true
	return nil
}

// request sends a control verb to the running service's master.
func (se *Session) request(ctx context.Context, verb string, data []byte) (master.Reply, error) {
	var r master.Reply
	out, err := se.Bus.Request(ctx, verb, data)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return r, fmt.Errorf("undecodable reply to %s: %w", verb, err)
	}
	return r, nil
}

// ToMaster sends a control verb to the active master when one can run:
// this working directory's service (standby or not), or one on natsUrl's
// cluster. sent is false, with no error, when none runs, and the caller
// acts itself.
func (se *Session) ToMaster(ctx context.Context, verb string, data []byte) (r master.Reply, sent bool, err error) {
	if se.Pid == 0 && !se.shared {
		return r, false, nil
	}
	r, err = se.request(ctx, verb, data)
	if se.Pid == 0 && errors.Is(err, bus.ErrNoMaster) {
		return r, false, nil
	}
	return r, true, err
}

// Close disconnects, stops a temporary server and releases the lock.
func (se *Session) Close() {
	if se.Bus != nil {
		se.Bus.Close()
	}
	if se.srv != nil {
		se.srv.Shutdown()
	}
	se.lock.Release()
}

// ping reports the pid of a running service that answers ping.
func ping(ctx context.Context, s *config.Sys, dir workdir.Dir) (int, bool) {
	pid, lock, err := Probe(ctx, dir, 0)
	lock.Release()
	if err != nil || pid == 0 {
		return 0, false
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	o := Conn(s, dir, "ossimport-console")
	o.Timeout = 2 * time.Second
	b, err := bus.Connect(ctx, o)
	if err != nil {
		return pid, false
	}
	defer b.Close()
	_, err = b.RequestService(ctx, serviceID(pid), master.VerbPing, nil)
	return pid, err == nil
}
