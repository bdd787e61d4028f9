package bus

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// KV is one of the bus's key-value buckets. Values too large for one
// message are stored zstd-compressed, transparently.
type KV struct {
	b      *Bus
	bucket string
	pick   func(*state) jetstream.KeyValue
}

// Entry is a change seen by Watch.
type Entry struct {
	Key      string
	Value    []byte
	Revision uint64
	// Deleted is set for deleted, purged and expired keys (a worker
	// missing its heartbeats).
	Deleted bool
}

// Jobs is the OSSIMPORT_JOBS bucket: job name → job spec and state.
func (b *Bus) Jobs() *KV {
	return &KV{b, JobsBucket, func(s *state) jetstream.KeyValue { return s.jobs }}
}

// Checkpoints is the OSSIMPORT_CHECKPOINTS bucket: job name → scan
// checkpoint.
func (b *Bus) Checkpoints() *KV {
	return &KV{b, CheckpointsBucket, func(s *state) jetstream.KeyValue { return s.checkpoints }}
}

// Workers is the OSSIMPORT_WORKERS bucket: worker name → last heartbeat.
// Keys expire after 3 × SetupOptions.HeartbeatInterval.
func (b *Bus) Workers() *KV {
	return &KV{b, WorkersBucket, func(s *state) jetstream.KeyValue { return s.wkr }}
}

// CreateJob stores a new job; it fails with ErrJobExists if a job of that
// name exists, atomically even against concurrent submits.
func (b *Bus) CreateJob(ctx context.Context, name string, data []byte) error {
	if err := checkJob(name); err != nil {
		return err
	}
	err := b.Jobs().Create(ctx, name, data)
	if errors.Is(err, ErrExists) {
		return fmt.Errorf("bus: job %s: %w", name, ErrJobExists)
	}
	return err
}

// HeartbeatTTL is how long a heartbeat lasts in WorkersBucket, as the
// active master set the bucket up (three of its heartbeat intervals): a
// worker that beats less often looks lost between beats.
func (b *Bus) HeartbeatTTL(ctx context.Context) (time.Duration, error) {
	st, err := b.state()
	if err != nil {
		return 0, err
	}
	s, err := st.wkr.Status(ctx)
	if err != nil {
		return 0, fmt.Errorf("bus: %s status: %w", WorkersBucket, err)
	}
	return s.TTL(), nil
}

// Heartbeat records that worker is alive; data describes its state.
func (b *Bus) Heartbeat(ctx context.Context, worker string, data []byte) error {
	return b.Workers().Put(ctx, worker, data)
}

func (k *KV) kv() (jetstream.KeyValue, error) {
	st, err := k.b.state()
	if err != nil {
		return nil, err
	}
	return k.pick(st), nil
}

// Put sets key to value.
func (k *KV) Put(ctx context.Context, key string, value []byte) error {
	kv, v, err := k.prepare(key, value)
	if err == nil {
		// Rides out a leader election: putting the same value again is harmless.
		err = k.b.ride(ctx, func(ctx context.Context) error { _, err := kv.Put(ctx, key, v); return err })
	}
	if err != nil {
		return fmt.Errorf("bus: %s put %q: %w", k.bucket, key, err)
	}
	return nil
}

// Create sets key to value only if key is absent (or deleted); otherwise
// it fails with ErrExists.
func (k *KV) Create(ctx context.Context, key string, value []byte) error {
	kv, v, err := k.prepare(key, value)
	if err == nil {
		_, err = kv.Create(ctx, key, v)
	}
	if errors.Is(err, jetstream.ErrKeyExists) {
		err = ErrExists
	}
	if err != nil {
		return fmt.Errorf("bus: %s create %q: %w", k.bucket, key, err)
	}
	return nil
}

// Get returns key's value, or ErrNotFound.
func (k *KV) Get(ctx context.Context, key string) ([]byte, error) {
	kv, err := k.kv()
	if err != nil {
		return nil, err
	}
	var e jetstream.KeyValueEntry
	err = k.b.ride(ctx, func(ctx context.Context) (err error) { e, err = kv.Get(ctx, key); return err })
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		err = ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("bus: %s get %q: %w", k.bucket, key, err)
	}
	v, err := decodeValue(e.Value())
	if err != nil {
		return nil, fmt.Errorf("bus: %s get %q: %w", k.bucket, key, err)
	}
	return v, nil
}

// Delete removes key; deleting a missing key is not an error.
func (k *KV) Delete(ctx context.Context, key string) error {
	kv, err := k.kv()
	if err == nil {
		err = k.b.ride(ctx, func(ctx context.Context) error { return kv.Delete(ctx, key) })
	}
	if err != nil {
		return fmt.Errorf("bus: %s delete %q: %w", k.bucket, key, err)
	}
	return nil
}

// Keys lists the keys present, in no particular order.
func (k *KV) Keys(ctx context.Context) ([]string, error) {
	kv, err := k.kv()
	if err != nil {
		return nil, err
	}
	var keys []string
	err = k.b.ride(ctx, func(ctx context.Context) error {
		lister, err := kv.ListKeys(ctx)
		if err != nil {
			return err
		}
		defer lister.Stop()
		keys = keys[:0]
		for key := range lister.Keys() {
			keys = append(keys, key)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bus: %s keys: %w", k.bucket, err)
	}
	return keys, nil
}

// Watch sends the current values of the keys matching pattern ("*" and
// ">" wildcards; ">" for all), then every change, until ctx ends; the
// channel is then closed.
func (k *KV) Watch(ctx context.Context, pattern string) (<-chan Entry, error) {
	kv, err := k.kv()
	if err != nil {
		return nil, err
	}
	w, err := kv.Watch(ctx, pattern)
	if err != nil {
		return nil, fmt.Errorf("bus: %s watch %q: %w", k.bucket, pattern, err)
	}
	out := make(chan Entry, 64)
	go func() {
		defer close(out)
		defer w.Stop()
		for {
			var e jetstream.KeyValueEntry
			ok := true
			select {
			case <-ctx.Done():
				return
			case e, ok = <-w.Updates():
			}
			if !ok {
				return
			}
			if e == nil {
				continue // end of the current values
			}
			ent := Entry{Key: e.Key(), Revision: e.Revision(), Deleted: e.Operation() != jetstream.KeyValuePut}
			if !ent.Deleted {
				var err error
				if ent.Value, err = decodeValue(e.Value()); err != nil {
					ent.Value = e.Value() // corrupt: pass it on as stored
				}
			}
			select {
			case out <- ent:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// prepare returns the bucket and the value as stored.
func (k *KV) prepare(key string, v []byte) (jetstream.KeyValue, []byte, error) {
	kv, err := k.kv()
	if err != nil {
		return nil, nil, err
	}
	limit := k.b.inlineLimit()
	if len(v) <= limit && !bytes.HasPrefix(v, []byte(kvMagic)) {
		return kv, v, nil
	}
	c := compressValue(v)
	if len(c) > limit {
		return nil, nil, fmt.Errorf("%w: %d bytes, %d compressed, limit %d", ErrTooLarge, len(v), len(c), limit)
	}
	return kv, c, nil
}

func decodeValue(v []byte) ([]byte, error) {
	if !bytes.HasPrefix(v, []byte(kvMagic)) {
		return v, nil
	}
	out, err := zdec().DecodeAll(v[len(kvMagic):], nil)
	if err != nil {
		return nil, fmt.Errorf("decompress value: %w", err)
	}
	return out, nil
}
