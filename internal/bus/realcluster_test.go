package bus

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/ossimport/ossimport/internal/testenv"
)

// leaderIndex is the index of the node (named n<i> by testenv) leading
// stream.
func leaderIndex(t *testing.T, ctx context.Context, b *Bus, stream string) int {
	t.Helper()
	reps, err := b.Replication(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reps {
		if r.Stream == stream && strings.HasPrefix(r.Leader, "n") && len(r.Leader) == 2 {
			return int(r.Leader[1] - '0')
		}
	}
	t.Fatalf("no leader for %s in %+v", stream, reps)
	return -1
}

// With three real nats-server processes, Setup's default replicas are 3;
// after the node leading the task stream is killed, a new connection's
// Setup (what a restarting service does) succeeds once the cluster has
// elected new leaders, instead of failing at once, and the state is
// usable.
func TestSetupRidesOutANodeLossOnARealCluster(t *testing.T) {
	c := testenv.StartNATSCluster(t, 3, testenv.NATSClusterOptions{})
	ctx, cancel := context.WithTimeout(t.Context(), testenv.Scale(90*time.Second))
	defer cancel()
	conn := func() *Bus {
		b, err := Connect(ctx, ConnOptions{URLs: c.URLs(), Token: c.Token, Name: t.Name(), Retry: Retry{Patience: 30 * time.Second}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(b.Close)
		return b
	}
	b := conn()
	if err := b.Setup(ctx, SetupOptions{Update: true, Retry: Retry{Patience: 45 * time.Second}}); err != nil {
		t.Fatal(err)
	}
	checkReplicas(t, ctx, b, 3)
	if err := b.Jobs().Put(ctx, "job", []byte("spec")); err != nil {
		t.Fatal(err)
	}

	c.Kill(leaderIndex(t, ctx, b, TaskStream))
	var mu sync.Mutex
	var waits []Wait
	b2 := conn()
	start := time.Now()
	err := b2.Setup(ctx, SetupOptions{Update: true, Retry: Retry{Patience: 60 * time.Second, OnWait: func(w Wait) {
		mu.Lock()
		waits = append(waits, w)
		mu.Unlock()
	}}})
	if err != nil {
		t.Fatalf("Setup after a node loss: %v", err)
	}
	mu.Lock()
	t.Logf("Setup after the node loss took %s, %d waits: %v", time.Since(start).Round(time.Millisecond), len(waits), waits)
	mu.Unlock()
	checkReplicas(t, ctx, b2, 3)
	var got []byte
	testenv.Wait(t, 30*time.Second, "the job entry to be readable", func() bool {
		octx, ocancel := context.WithTimeout(ctx, 2*time.Second)
		defer ocancel()
		got, err = b2.Jobs().Get(octx, "job")
		return err == nil
	})
	if string(got) != "spec" {
		t.Fatalf("job entry after the node loss: %q", got)
	}
}

// A worker's NextTask keeps getting tasks after the node leading the
// task consumer is killed (its first pulls meet no responders or no
// answer while the consumer elects a new leader).
func TestNextTaskAfterTheConsumerLeaderIsKilled(t *testing.T) {
	c := testenv.StartNATSCluster(t, 3, testenv.NATSClusterOptions{})
	ctx := t.Context()
	conn := func(name string, update bool) *Bus {
		b, err := Connect(ctx, ConnOptions{URLs: c.URLs(), Token: c.Token, Name: name})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(b.Close)
		if err := b.Setup(ctx, SetupOptions{Update: update, RedeliveryPoll: 200 * time.Millisecond, Retry: Retry{Patience: 45 * time.Second}}); err != nil {
			t.Fatal(err)
		}
		return b
	}
	m := conn("master", true)
	w := conn("worker", false)
	for i := range 3 {
		if err := m.PublishTask(ctx, "j", fmt.Sprint("t", i), []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		tm, err := w.NextTask(ctx, "w")
		if err != nil {
			t.Fatal(err)
		}
		if err := tm.Ack(); err != nil {
			t.Fatal(err)
		}
	}
	st, _ := m.state()
	cons, err := st.tasks.Consumer(ctx, taskConsumer("j"))
	if err != nil {
		t.Fatal(err)
	}
	idx := int(cons.CachedInfo().Cluster.Leader[1] - '0')
	t.Logf("worker on %s, killing n%d", w.nc.ConnectedUrl(), idx)
	c.Kill(idx)
	for i := 3; i < 6; i++ {
		if err := m.PublishTask(ctx, "j", fmt.Sprint("t", i), []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	t.Log("published after the kill")
	for range 3 {
		nctx, cancel := context.WithTimeout(ctx, testenv.Scale(30*time.Second))
		tm, err := w.NextTask(nctx, "w")
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if err := tm.Ack(); err != nil {
			t.Log(err) // the ack may be lost in the election: redelivered later
		}
	}
}

// A task whose payload is stored apart (too large for a message) can be
// read after the node leading the payload bucket is killed: the fetch
// rides out the election instead of failing the task.
func TestTaskPayloadAfterItsBucketLeaderIsKilled(t *testing.T) {
	c := testenv.StartNATSCluster(t, 3, testenv.NATSClusterOptions{})
	ctx := t.Context()
	b, err := Connect(ctx, ConnOptions{URLs: c.URLs(), Token: c.Token, Name: "worker"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	if err := b.Setup(ctx, SetupOptions{Update: true, RedeliveryPoll: 200 * time.Millisecond, Retry: Retry{Patience: 45 * time.Second}}); err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, 2*b.inlineLimit())
	rand.NewChaCha8([32]byte{9}).Read(payload) // incompressible: stored apart
	if err := b.PublishTask(ctx, "j", "big", payload); err != nil {
		t.Fatal(err)
	}
	tm, err := b.NextTask(ctx, "w")
	if err != nil {
		t.Fatal(err)
	}
	if tm.msg.Headers().Get(hdrObject) == "" {
		t.Fatal("the payload was sent inline; the test needs it stored apart")
	}
	st, _ := b.state()
	info, err := st.data.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	leader := -1
	if s, ok := info.(*jetstream.ObjectBucketStatus); ok && s.StreamInfo().Cluster != nil {
		fmt.Sscanf(s.StreamInfo().Cluster.Leader, "n%d", &leader)
	}
	if leader < 0 {
		t.Fatalf("no leader for the payload bucket: %+v", info)
	}
	c.Kill(leader)
	got, err := tm.Data()
	if err != nil {
		t.Fatalf("payload after its bucket's leader n%d was killed: %v", leader, err)
	}
	if !bytes.Equal(got, payload) {
		t.Fatal("payload differs")
	}
}
