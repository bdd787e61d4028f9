package bus

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/ossimport/ossimport/internal/testenv"
)

// testTimeout bounds every wait in the tests.
var testTimeout = testenv.Scale(10 * time.Second)

// serverOpts are options for a throwaway server on a random port.
func serverOpts(t *testing.T) ServerOptions {
	t.Helper()
	dir := t.TempDir()
	return ServerOptions{
		Dir:       filepath.Join(dir, "nats"),
		TokenFile: filepath.Join(dir, "nats.token"),
		Port:      -1,
	}
}

// startServer starts a server, shut down when the test ends.
func startServer(t *testing.T, opts ServerOptions) *Server {
	t.Helper()
	srv, err := StartServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	return srv
}

// connect opens a TCP connection to srv, closed when the test ends, and
// sets it up with so.
func connect(t *testing.T, srv *Server, so SetupOptions) *Bus {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	b, err := Connect(ctx, ConnOptions{URLs: srv.ClientURL(), Token: srv.Token(), Name: t.Name()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	if err := b.Setup(ctx, so); err != nil {
		t.Fatal(err)
	}
	return b
}

// newBus starts a server and connects one bus to it.
func newBus(t *testing.T, so SetupOptions) (*Server, *Bus) {
	t.Helper()
	srv := startServer(t, serverOpts(t))
	return srv, connect(t, srv, so)
}

// tctx is a context bounded by testTimeout.
func tctx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// next fetches a task or fails the test.
func next(t *testing.T, b *Bus, worker string) *TaskMsg {
	t.Helper()
	m, err := b.NextTask(tctx(t), worker)
	if err != nil {
		t.Fatalf("NextTask(%s): %v", worker, err)
	}
	return m
}

// mustData returns a task's payload or fails the test.
func mustData(t *testing.T, m *TaskMsg) []byte {
	t.Helper()
	d, err := m.Data()
	if err != nil {
		t.Fatalf("task %s data: %v", m.TaskID, err)
	}
	return d
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// storedTasks is the number of the job's tasks the task stream holds, read
// from the stream itself (exact once a publish or a synchronous ack has
// been answered).
func storedTasks(t *testing.T, b *Bus, job string) uint64 {
	t.Helper()
	st, err := b.state()
	must(t, err)
	info, err := st.tasks.Info(tctx(t), jetstream.WithSubjectFilter(taskSubject(job)))
	must(t, err)
	return info.State.Subjects[taskSubject(job)]
}

// waitPending waits for the job's pending count to read want. The
// consumer's count trails the stream's: the server answers a publish
// before it signals the consumers.
func waitPending(t *testing.T, b *Bus, job string, want uint64) {
	t.Helper()
	var n uint64
	var err error
	testenv.Wait(t, 10*time.Second, fmt.Sprintf("job %s to have %d pending tasks", job, want), func() bool {
		n, err = b.Pending(tctx(t), job)
		return err == nil && n == want
	}, func() string { return fmt.Sprintf("last read %d, %v", n, err) })
}
