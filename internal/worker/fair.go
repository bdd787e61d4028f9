package worker

import (
	"context"

	"github.com/ossimport/ossimport/internal/transfer"
)

// fairQuantum is the most bytes one read takes from the worker's
// throughput cap at a time. The cap's limiter serves reads in the order
// they ask; with reads of a whole burst (up to 4 MiB), a small object's
// read waits behind a burst of every part in flight, and small files stop
// while large ones upload. In quanta every stream, part or small object,
// gets its turn after at most one quantum of each other stream.
const fairQuantum = 32 << 10

// fairLimiter hands out a byte limiter's tokens in quanta: its Burst,
// which caps the reads of the copier, is at most fairQuantum.
type fairLimiter struct{ l transfer.Limiter }

// fair wraps a byte limiter (nil stays nil).
func fair(l transfer.Limiter) transfer.Limiter {
	if l == nil {
		return nil
	}
	return &fairLimiter{l: l}
}

func (f *fairLimiter) Burst() int { return max(min(f.l.Burst(), fairQuantum), 1) }

func (f *fairLimiter) WaitN(ctx context.Context, n int) error {
	for n > 0 {
		q := min(n, f.Burst())
		if err := f.l.WaitN(ctx, q); err != nil {
			return err
		}
		n -= q
	}
	return nil
}
