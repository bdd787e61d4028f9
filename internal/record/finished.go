package record

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
	"unicode/utf8"

	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// A task's workdir.FinishedFile is its machine-readable progress: one
// JSON line per object finished, so a retried or redelivered task never
// counts or copies a finished object again. (Unfinished multipart uploads
// are recorded in JetStream, where any worker finds them: bus.Upload.)

type finishedLine struct {
	Key string `json:"k"`
	// KeyBytes carries a key that is not valid UTF-8 (JSON strings cannot).
	KeyBytes []byte        `json:"kb,omitempty"`
	Code     transfer.Code `json:"c,omitempty"`
	// AuditEnd is audit.log's size with this object's line: what a
	// resumed writer truncates it to (see Commit). 0 in records of
	// versions that did not write it.
	AuditEnd int64 `json:"a,omitempty"`
	// Why is a skipped object's skip reason (SkipReason).
	Why string `json:"w,omitempty"`
}

// progress adds a line to the progress committed next (see Commit).
func (w *Writer) finished(l finishedLine) error {
	if !utf8.ValidString(l.Key) {
		l.KeyBytes, l.Key = []byte(l.Key), ""
	}
	data, err := json.Marshal(l)
	if err != nil {
		return err
	}
	w.pending = append(append(w.pending, data...), '\n')
	return nil
}

// Finished is what a task had finished when it was interrupted: its
// objects with their codes, as its workdir.FinishedFile records them.
type Finished struct {
	// Finished maps keys to their result code.
	Finished map[string]transfer.Code
	// AuditEnd is the size of audit.log with the lines of the objects
	// in Finished (the last progress line's), 0 when unknown.
	AuditEnd int64
	// Why maps the skipped objects' keys to their skip reason, when
	// recorded.
	Why map[string]string
}

// ReadFinished reads the task's workdir.FinishedFile; a missing file has
// nothing finished.
// A torn last line (crash mid-write) is ignored.
func ReadFinished(dir string) (Finished, error) {
	p := Finished{Finished: map[string]transfer.Code{}}
	err := workdir.EachJSONLine(filepath.Join(dir, workdir.FinishedFile), 1<<20, func(l finishedLine) {
		if l.KeyBytes != nil {
			l.Key = string(l.KeyBytes)
		}
		if l.Code != "" {
			p.Finished[l.Key] = l.Code
			p.AuditEnd = l.AuditEnd
			if l.Why != "" {
				if p.Why == nil {
					p.Why = map[string]string{}
				}
				p.Why[l.Key] = l.Why
			}
		}
	})
	if err != nil {
		return p, fmt.Errorf("read task progress: %w", err)
	}
	return p, nil
}

// Resume returns the objects of a task still to do: finished successes
// (their count is returned) and permanent failures are dropped.
func (p Finished) Resume(objs []transfer.Object) (todo []transfer.Object, done int) {
	for _, o := range objs {
		code, ok := p.Finished[o.Key]
		if ok && Permanent(code) {
			continue
		}
		if ok && code.OK() {
			done++
			continue
		}
		todo = append(todo, o)
	}
	return todo, done
}

// Carry counts the objects an interrupted run finished, and those that
// failed permanently (a retry leaves them out), into this run's counters,
// so the task's totals cover all its objects.
func (w *Writer) Carry(p Finished, objs []transfer.Object) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, o := range objs {
		code, ok := p.Finished[o.Key]
		if !ok || !code.OK() && !Permanent(code) {
			continue
		}
		why := p.Why[o.Key]
		if why == "" {
			why = SkipOther
		}
		w.counters.add(transfer.Result{Object: o, Code: code, Size: max(o.Size, 0)}, why)
		if !code.OK() {
			// Still failed: listed again in the error.list open truncated.
			_, _ = w.errW.WriteString(EncodeKey(o.Key) + "\n")
		}
	}
}

// Resume opens a task folder to record more results: it returns the task,
// what earlier runs finished, and a writer whose counters already include
// those objects. TASK is read, not written again.
func Resume(dir string) (*Writer, plan.Task, Finished, error) {
	t, err := ReadTask(dir)
	if err != nil {
		return nil, t, Finished{}, err
	}
	p, err := ReadFinished(dir)
	if err != nil {
		return nil, t, p, err
	}
	if err := dropUncommitted(dir, p); err != nil {
		return nil, t, p, err
	}
	w, err := open(dir, t)
	if err != nil {
		return nil, t, p, err
	}
	w.Carry(p, t.Objects)
	return w, t, p, nil
}

// Requeue prepares a failed task folder for a retry and moves it from
// `from` to `to` (failed_tasks -> pending_tasks): objects that failed
// because the source changed are re-planned from the source as it is now
// (size and mtime unknown), STATUS and DONE go, and the progress stays,
// so the objects that succeeded are never copied again and the final
// counters cover them all. It returns the task with only the objects a
// retry must copy: not those that failed permanently (Permanent).
func Requeue(from, to string) (plan.Task, error) {
	t, err := ReadTask(from)
	if err != nil {
		return t, err
	}
	p, err := ReadFinished(from)
	if err != nil {
		return t, err
	}
	for i, o := range t.Objects {
		if p.Finished[o.Key] == transfer.SizeNotMatch {
			t.Objects[i].Size, t.Objects[i].ModTime = -1, time.Time{}
		}
	}
	if err := WriteTask(from, t); err != nil {
		return t, err
	}
	for _, f := range []string{workdir.StatusFile, workdir.DoneFile} {
		if err := os.Remove(filepath.Join(from, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return t, fmt.Errorf("requeue task %s: %w", t.ID, err)
		}
	}
	if err := workdir.Move(from, to); err != nil {
		return t, err
	}
	t.Objects, _ = p.Resume(t.Objects)
	return t, nil
}
