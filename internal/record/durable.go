package record

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ossimport/ossimport/internal/workdir"
)

// Durability. A task's records are written in batches: Add buffers an
// object's audit.log and error.list lines and its progress line, and
// Commit (Close and Suspend commit too) writes them in this order:
//
//  1. audit.log and error.list are flushed and synced to disk;
//  2. the batch's progress lines are written and synced.
//
// progress.jsonl is what says an object is recorded: a resumed task
// skips the objects it holds. Since their audit lines reach the disk
// first, an object in the progress always has its line, whenever the
// process dies (kill -9 included). Each progress line also carries the
// size of audit.log with its object's line, so a resumed writer cuts off
// the lines written after the last committed progress line (a batch
// killed between steps 1 and 2): those objects are recorded again, and
// every object ends with exactly one line per application. The caller
// acknowledges a result only once Close (or Suspend) returned.

// Commit makes the results added so far durable: see above.
func (w *Writer) Commit() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.commit()
}

func (w *Writer) commit() error {
	if err := errors.Join(w.auditW.Flush(), w.errW.Flush()); err != nil {
		return fmt.Errorf("write task records in %s: %w", w.dir, err)
	}
	if err := errors.Join(w.audit.Sync(), w.errF.Sync()); err != nil {
		return fmt.Errorf("sync task records in %s: %w", w.dir, err)
	}
	if len(w.pending) == 0 {
		return nil
	}
	if _, err := w.progF.Write(w.pending); err != nil {
		return fmt.Errorf("write task progress in %s: %w", w.dir, err)
	}
	w.pending = w.pending[:0]
	if err := w.progF.Sync(); err != nil {
		return fmt.Errorf("sync task progress in %s: %w", w.dir, err)
	}
	return nil
}

// dropUncommitted cuts audit.log back to the end of the last object the
// progress holds (to nothing when it holds none), dropping lines of a
// batch whose progress was never committed (their objects are recorded
// again). Records without the offsets (older versions, which wrote the
// progress first) are left as they are.
func dropUncommitted(dir string, p Finished) error {
	if p.AuditEnd <= 0 && len(p.Finished) > 0 {
		return nil
	}
	path := filepath.Join(dir, workdir.AuditFile)
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("resume task records: %w", err)
	}
	if fi.Size() <= p.AuditEnd {
		return nil
	}
	if err := os.Truncate(path, p.AuditEnd); err != nil {
		return fmt.Errorf("resume task records: %w", err)
	}
	return nil
}
