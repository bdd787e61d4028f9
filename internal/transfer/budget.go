package transfer

import (
	"context"
	"fmt"
	"sync"
)

// DefaultBudget is the least capacity of the shared budget: the part
// buffers of one file at the default settings (uploadThreadNumPerLargeFile
// 3 parts in flight, of multipartUploadPartSize 50 MiB).
const DefaultBudget = 3 * 50 << 20

// Budget bounds the memory of part buffers held by all the copies that
// share it, whatever the number of files in flight: a copy that needs a
// buffer waits until the bytes in use leave room for it. Buffers given
// back are kept for reuse while they fit in the capacity. Only sources
// that cannot read a part again (no ranged reads) need part buffers; the
// parts of every other source stream from the source into their upload.
// Small objects read whole (wholeMax) take theirs from it too.
type Budget struct {
	mu    sync.Mutex
	cap   int64 // bytes
	used  int64 // bytes of buffers handed out
	held  int64 // bytes of buffers handed out or kept for reuse
	free  map[int64][]*[]byte
	wait  chan struct{} // closed when used drops
	peak  int64
	count int64 // buffers handed out
}

// NewBudget returns a budget of capacity bytes.
func NewBudget(capacity int64) *Budget {
	return &Budget{cap: max(capacity, 1), free: map[int64][]*[]byte{}, wait: make(chan struct{})}
}

var (
	sharedOnce sync.Once
	shared     *Budget
)

// SharedBudget is the process's budget, used by every Copier whose
// Options.Buffers is nil. Its capacity is DefaultBudget, raised by each
// new Copier to hold at least one file's parts in flight (PartConcurrency
// parts of PartSize), so that no copier's settings starve it.
func SharedBudget() *Budget {
	sharedOnce.Do(func() { shared = NewBudget(DefaultBudget) })
	return shared
}

// fit raises the capacity to hold concurrency parts of partSize.
func (b *Budget) fit(concurrency int, partSize int64) {
	need := int64(max(concurrency, 1)) * partSize
	b.mu.Lock()
	defer b.mu.Unlock()
	if need > b.cap {
		b.cap = need
		b.wake()
	}
}

// Cap returns the capacity in bytes.
func (b *Budget) Cap() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cap
}

// Stats returns the bytes of buffers handed out now, the most ever
// handed out at once, and how many buffers were handed out in all.
func (b *Budget) Stats() (used, peak, count int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used, b.peak, b.count
}

// get returns a buffer of size bytes, waiting until the budget has room
// (a buffer larger than the whole capacity waits until nothing else is
// in use). The caller gives it back with put.
func (b *Budget) get(ctx context.Context, size int64) (*[]byte, error) {
	for {
		b.mu.Lock()
		if b.used == 0 || b.used+size <= b.cap {
			buf := b.take(size)
			b.mu.Unlock()
			return buf, nil
		}
		wait := b.wait
		b.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for a copy buffer: %w", context.Cause(ctx))
		}
	}
}

// take hands out a buffer of size bytes, reusing a free one of that size
// or allocating one, after dropping free buffers (of other sizes) that
// would leave more than the capacity held. Called with b.mu held.
func (b *Budget) take(size int64) *[]byte {
	b.used += size
	b.count++
	b.peak = max(b.peak, b.used)
	if list := b.free[size]; len(list) > 0 {
		buf := list[len(list)-1]
		b.free[size] = list[:len(list)-1]
		return buf
	}
	for sz, list := range b.free {
		for len(list) > 0 && b.held+size > b.cap {
			list = list[:len(list)-1]
			b.held -= sz
		}
		b.free[sz] = list
	}
	b.held += size
	buf := make([]byte, size)
	return &buf
}

// put gives back a buffer of size bytes from get.
func (b *Budget) put(size int64, buf *[]byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= size
	if b.held <= b.cap {
		b.free[size] = append(b.free[size], buf)
	} else {
		b.held -= size // over the capacity (a shrunk part size): let it go
	}
	b.wake()
}

// release gives back a buffer of size bytes from get that a request was
// sent from. Answered (sent is nil), the request no longer reads it and
// it is kept for reuse, as put does. Failed, the request may still be
// sending it (an HTTP client may close a request's body after the call
// returns), so only its room is given back and the buffer is left to
// the garbage collector.
func (b *Budget) release(size int64, buf *[]byte, sent error) {
	if sent == nil {
		b.put(size, buf)
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= size
	b.held -= size
	b.wake()
}

// wake tells the waiters that room was made. Called with b.mu held.
func (b *Budget) wake() {
	close(b.wait)
	b.wait = make(chan struct{})
}
