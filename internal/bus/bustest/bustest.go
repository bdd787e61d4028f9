// Package bustest gives tests an embedded NATS server and bus
// connections to it, the way the service starts them, so that tests of
// the roles (master, tracker, worker) set up their bus in one line.
package bustest

import (
	"path/filepath"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/ossimport/ossimport/internal/bus"
)

// Server starts an embedded NATS server with JetStream storing under
// dir/nats (its token in dir/nats.token) on a free port, shut down when
// the test ends.
func Server(t testing.TB, dir string) *bus.Server {
	t.Helper()
	srv, err := bus.StartServer(bus.ServerOptions{Dir: filepath.Join(dir, "nats"), TokenFile: filepath.Join(dir, "nats.token"), Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	return srv
}

// Connect opens a bus connection named name to srv and sets up the
// streams and buckets with so; it is closed when the test ends.
func Connect(t testing.TB, srv *bus.Server, name string, so bus.SetupOptions) *bus.Bus {
	t.Helper()
	b, err := bus.Connect(t.Context(), bus.ConnOptions{Server: srv, Name: name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	if err := b.Setup(t.Context(), so); err != nil {
		t.Fatal(err)
	}
	return b
}

// JetStream opens a plain JetStream connection to srv, for tests that
// act on the streams and buckets behind the bus's back (delete one, to
// see a role ride out its loss); it is closed when the test ends.
func JetStream(t testing.TB, srv *bus.Server) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(srv.ClientURL(), nats.Token(srv.Token()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}
