package testenv_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ossimport/ossimport/internal/testenv"
)

// Three real nats-server processes form one JetStream cluster: an R3
// stream has a leader and two current replicas, keeps its messages when
// a node is killed, and the node rejoins after Restart.
func TestNATSClusterReplicatesAndRestarts(t *testing.T) {
	c := testenv.StartNATSCluster(t, 3, testenv.NATSClusterOptions{})
	if got := len(c.ClientURLs()); got != 3 {
		t.Fatalf("ClientURLs: %d URLs, want 3", got)
	}
	nc, err := nats.Connect(c.URLs(), nats.Token(c.Token), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), testenv.Scale(45*time.Second))
	defer cancel()
	s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"}, Replicas: 3})
	if err != nil {
		t.Fatal(err)
	}
	// A stream just created may not have elected its leader yet: a publish
	// then has no responder, so it is tried again until the stream answers.
	var pubErr error
	testenv.Wait(t, 30*time.Second, "the new stream to take a message", func() bool {
		cctx, ccancel := context.WithTimeout(ctx, 2*time.Second)
		defer ccancel()
		_, pubErr = js.Publish(cctx, "t.a", []byte("x"), jetstream.WithMsgID("t.a-1"))
		return pubErr == nil
	}, func() string { return fmt.Sprintf("last publish: %v", pubErr) })
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.Replicas != 3 || info.Cluster == nil || len(info.Cluster.Replicas) != 2 {
		t.Fatalf("stream is not on 3 nodes: %+v", info.Cluster)
	}
	c.Kill(0)
	if c.Running(0) {
		t.Fatal("node 0 still runs after Kill")
	}
	var msgs uint64
	testenv.Wait(t, 30*time.Second, "the stream to answer after a node loss", func() bool {
		// Each call gets its own short deadline: a request sent while the
		// stream elects a new leader gets no answer at all.
		cctx, ccancel := context.WithTimeout(ctx, 2*time.Second)
		defer ccancel()
		i, err := s.Info(cctx)
		if err == nil {
			msgs = i.State.Msgs
		}
		return err == nil
	})
	if msgs != 1 {
		t.Fatalf("%d messages after a node loss, want 1", msgs)
	}
	c.Restart(0)
	if !c.Running(0) {
		t.Fatal("node 0 does not run after Restart")
	}
}
