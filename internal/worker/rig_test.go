package worker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/bus/bustest"
	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/job"
	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/memory"
	"github.com/ossimport/ossimport/internal/testenv"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/worker"
)

// rig is a worker's surroundings: an embedded NATS with the bus set up,
// and jobs whose stores the test holds.
type rig struct {
	t      *testing.T
	srv    *bus.Server
	bus    *bus.Bus
	sys    *config.Sys
	ctx    context.Context
	mu     sync.Mutex
	stores map[string][2]string // job -> source and destination store types
}

// types numbers the store types registered by the tests.
var types atomic.Int64

// register makes st a store type of its own and returns the type.
func register(st storage.Store) string {
	typ := fmt.Sprintf("worker-test-%d", types.Add(1))
	storage.Register(typ, func(context.Context, storage.Spec) (storage.Store, error) { return st, nil })
	return typ
}

// newRig starts the bus with sys (edited by edit) as every process's
// settings.
func newRig(t *testing.T, edit func(*config.Sys)) *rig {
	t.Helper()
	work := t.TempDir()
	srv := bustest.Server(t, work)
	sys := config.DefaultSys()
	sys.WorkingDir, sys.WorkerTaskThreadNum, sys.TaskAckWait = work, 4, 30*time.Second
	if edit != nil {
		edit(sys)
	}
	r := &rig{t: t, srv: srv, sys: sys, ctx: t.Context(), stores: map[string][2]string{}}
	r.bus = r.connect("test")
	return r
}

func (r *rig) connect(name string) *bus.Bus {
	r.t.Helper()
	return bustest.Connect(r.t, r.srv, name, bus.SetupOptions{AckWait: r.sys.TaskAckWait, MaxDeliver: 3,
		HeartbeatInterval: r.sys.WorkerHeartbeatInterval, RedeliveryPoll: 100 * time.Millisecond, Update: true})
}

// resolve builds a job's spec from its file, with the test's stores.
func (r *rig) resolve(file string, cfg []byte, s *config.Sys) (*job.Spec, error) {
	spec, err := job.FromConfig(file, cfg, s)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	st, ok := r.stores[spec.Name]
	r.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("no stores for job %s", spec.Name)
	}
	spec.Source, spec.Dest = storage.Spec{Type: st[0]}, storage.Spec{Type: st[1]}
	spec.Transfer.NoServerSideCopy = true
	return spec, nil
}

// submit creates a job copying src to dst, with the job.cfg lines extra.
func (r *rig) submit(name string, src storage.Source, dst storage.Destination, extra ...string) {
	r.t.Helper()
	r.mu.Lock()
	r.stores[name] = [2]string{register(src), register(dst)}
	r.mu.Unlock()
	cfg := fmt.Sprintf("jobName=%s\nsrcType=local\nsrcPrefix=%s/\ndestType=local\ndestBucket=%s\n", name, r.t.TempDir(), r.t.TempDir())
	for _, line := range extra {
		cfg += line + "\n"
	}
	data, _ := json.Marshal(protocol.Job{Name: name, Config: []byte(cfg), File: "job.cfg", Submitted: time.Now()})
	if err := r.bus.CreateJob(r.ctx, name, data); err != nil {
		r.t.Fatal(err)
	}
}

// queue publishes a task of job with objs.
func (r *rig) queue(jobName, id string, objs []transfer.Object) {
	r.t.Helper()
	t := plan.Task{ID: id, Job: jobName, Objects: objs}
	for _, o := range objs {
		t.Bytes += max(o.Size, 0)
	}
	data, _ := json.Marshal(t)
	if err := r.bus.PublishTask(r.ctx, jobName, id, data); err != nil {
		r.t.Fatal(err)
	}
}

// start runs a worker until the returned function is called.
func (r *rig) start(name string, edit func(*worker.Options)) (w *worker.Worker, stop func()) {
	r.t.Helper()
	opts := worker.Options{Name: name, Bus: r.connect(name), Settings: worker.SettingsFrom(r.sys), Resolve: r.resolve}
	if edit != nil {
		edit(&opts)
	}
	w, err := worker.New(opts)
	if err != nil {
		r.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(r.ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	stop = sync.OnceFunc(func() { cancel(); <-done })
	r.t.Cleanup(stop)
	return w, stop
}

// results delivers the task results in the journal.
func (r *rig) results() <-chan protocol.TaskResult {
	out := make(chan protocol.TaskResult, 64)
	go func() {
		_ = r.bus.Follow(r.ctx, 0, func(m bus.JournalEntry) error {
			if m.Kind != bus.KindResult {
				return nil
			}
			var res protocol.TaskResult
			if err := json.Unmarshal(m.Data, &res); err != nil {
				return err
			}
			out <- res
			return nil
		})
	}()
	return out
}

// progress delivers the progress reports published from now on.
func (r *rig) progress() <-chan protocol.TaskProgress {
	out := make(chan protocol.TaskProgress, 1024)
	err := r.bus.SubscribeProgress(r.ctx, func(p bus.Progress) {
		var tp protocol.TaskProgress
		if json.Unmarshal(p.Data, &tp) == nil {
			select {
			case out <- tp:
			default: // the test stopped listening
			}
		}
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return out
}

// next waits for a result.
func next[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(testenv.Scale(30 * time.Second)):
		t.Fatalf("no %s within %s", what, testenv.Scale(30*time.Second))
	}
	var zero T
	return zero
}

// objects puts n objects of size bytes each under prefix in st.
func objects(t *testing.T, st *memory.Store, prefix string, n int, size int) []transfer.Object {
	t.Helper()
	var objs []transfer.Object
	for i := range n {
		key := fmt.Sprintf("%s%03d", prefix, i)
		data := bytes.Repeat([]byte{byte('a' + i%26)}, size)
		meta := storage.Metadata{User: map[string]string{storage.ModTimeMetaKey: "1700000000"}}
		if _, err := st.Put(t.Context(), key, bytes.NewReader(data), int64(size), meta); err != nil {
			t.Fatal(err)
		}
		objs = append(objs, transfer.Object{Key: key, Size: int64(size), ModTime: time.Unix(1_700_000_000, 0)})
	}
	return objs
}

// gatedSource holds reads of one key at byte at until released (or the
// read's context ends).
type gatedSource struct {
	*memory.Store
	key     string
	at      int64
	reached chan struct{} // closed when a read arrives at the gate
	release chan struct{} // closed to let reads through
	once    sync.Once
}

func newGatedSource(st *memory.Store, key string, at int64) *gatedSource {
	return &gatedSource{Store: st, key: key, at: at, reached: make(chan struct{}), release: make(chan struct{})}
}

func (g *gatedSource) Open(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	rc, err := g.Store.Open(ctx, key, off, n)
	if err != nil || key != g.key {
		return rc, err
	}
	return &gatedReader{ctx: ctx, ReadCloser: rc, g: g, pos: off}, nil
}

type gatedReader struct {
	ctx context.Context
	io.ReadCloser
	g   *gatedSource
	pos int64
}

func (r *gatedReader) Read(p []byte) (int, error) {
	if r.pos >= r.g.at {
		r.g.once.Do(func() { close(r.g.reached) })
		select {
		case <-r.g.release:
		case <-r.ctx.Done():
			return 0, r.ctx.Err()
		}
	} else if r.pos+int64(len(p)) > r.g.at {
		p = p[:r.g.at-r.pos]
	}
	n, err := r.ReadCloser.Read(p)
	r.pos += int64(n)
	return n, err
}

// failingDest fails puts: of the keys in bad with an error no rule
// classifies, or of every key with refuse.
type failingDest struct {
	*memory.Store
	bad    map[string]bool
	refuse error
}

var errMystery = errors.New("java.lang.IllegalStateException: something odd")

func (d *failingDest) Put(ctx context.Context, key string, r io.Reader, size int64, meta storage.Metadata) (storage.PutResult, error) {
	switch {
	case d.refuse != nil:
		return storage.PutResult{}, fmt.Errorf("put %q: %w", key, d.refuse)
	case d.bad[key]:
		return storage.PutResult{}, fmt.Errorf("put %q: %w", key, errMystery)
	}
	return d.Store.Put(ctx, key, r, size, meta)
}
