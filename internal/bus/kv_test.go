package bus

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestCreateJobTwice(t *testing.T) {
	_, b := newBus(t, SetupOptions{})
	must(t, b.CreateJob(tctx(t), "job1", []byte("spec")))
	err := b.CreateJob(tctx(t), "job1", []byte("other"))
	if !errors.Is(err, ErrJobExists) {
		t.Fatalf("second CreateJob: %v, want ErrJobExists", err)
	}
	if v, err := b.Jobs().Get(tctx(t), "job1"); err != nil || string(v) != "spec" {
		t.Fatalf("job1 = %q, %v", v, err)
	}
	// After clean the name is free again.
	must(t, b.Jobs().Delete(tctx(t), "job1"))
	must(t, b.CreateJob(tctx(t), "job1", []byte("again")))
}

func TestKV(t *testing.T) {
	_, b := newBus(t, SetupOptions{})
	kv := b.Checkpoints()
	if _, err := kv.Get(tctx(t), "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get missing: %v, want ErrNotFound", err)
	}
	if keys, err := kv.Keys(tctx(t)); err != nil || len(keys) != 0 {
		t.Errorf("Keys of empty bucket: %v, %v", keys, err)
	}
	// A checkpoint larger than one message is stored compressed.
	big := bytes.Repeat([]byte(`{"shard":"dir/","token":"abc","seq":12},`), 60000)
	must(t, kv.Put(tctx(t), "jobA", big))
	must(t, kv.Put(tctx(t), "jobB", []byte("small")))
	if v, err := kv.Get(tctx(t), "jobA"); err != nil || !bytes.Equal(v, big) {
		t.Errorf("large value differs (%d bytes), %v", len(v), err)
	}
	keys, err := kv.Keys(tctx(t))
	slices.Sort(keys)
	if err != nil || !slices.Equal(keys, []string{"jobA", "jobB"}) {
		t.Errorf("Keys = %v, %v", keys, err)
	}
	must(t, kv.Delete(tctx(t), "jobA"))
	if _, err := kv.Get(tctx(t), "jobA"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get deleted: %v", err)
	}
}

func TestWatch(t *testing.T) {
	_, b := newBus(t, SetupOptions{})
	kv := b.Jobs()
	must(t, kv.Put(tctx(t), "before", []byte("1")))
	ctx, cancel := context.WithCancel(tctx(t))
	ch, err := kv.Watch(ctx, ">")
	must(t, err)
	var got []string
	next := func() {
		t.Helper()
		select {
		case e := <-ch:
			got = append(got, e.Key+"="+string(e.Value)+map[bool]string{true: " deleted"}[e.Deleted])
		case <-ctx.Done():
			t.Fatalf("watched %q, then nothing", got)
		}
	}
	// The current value comes first. The bucket keeps one revision per key,
	// so the changes wait until it has arrived: a change made while the
	// server is still starting the watch replaces the value it was about to
	// send, and a watch promises the latest value, not every one between.
	next()
	must(t, kv.Put(tctx(t), "after", []byte("2")))
	must(t, kv.Delete(tctx(t), "before"))
	next()
	next()
	if want := []string{"before=1", "after=2", "before= deleted"}; !slices.Equal(got, want) {
		t.Errorf("watched %q, want %q", got, want)
	}
	cancel()
	for range ch { // closed once ctx ends
	}
}

func TestWorkerHeartbeatExpires(t *testing.T) {
	t.Parallel()
	_, b := newBus(t, SetupOptions{HeartbeatInterval: 200 * time.Millisecond})
	ch, err := b.Workers().Watch(tctx(t), ">")
	must(t, err)
	start := time.Now()
	must(t, b.Heartbeat(tctx(t), "10.0.0.7", []byte("running 3 tasks")))
	if e := <-ch; e.Key != "10.0.0.7" || e.Deleted {
		t.Fatalf("first event %+v", e)
	}
	select {
	case e := <-ch:
		if e.Key != "10.0.0.7" || !e.Deleted {
			t.Fatalf("second event %+v, want expiry", e)
		}
	case <-tctx(t).Done():
		t.Fatal("worker key never expired")
	}
	if age := time.Since(start); age < 600*time.Millisecond {
		t.Errorf("worker expired after %s, before 3 heartbeat intervals", age)
	}
	if _, err := b.Workers().Get(tctx(t), "10.0.0.7"); !errors.Is(err, ErrNotFound) {
		t.Errorf("expired worker: %v", err)
	}
}
