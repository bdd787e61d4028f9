package tracker

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/report"
	"github.com/ossimport/ossimport/internal/workdir"
)

// A result's report rows are written after Apply filed it, and a
// result filed again (the journal marker lags after a crash) adds no rows
// for objects the task already holds as finished. A crash between the two
// would lose the rows: the keys the rows are due for are therefore noted
// in the task folder (workdir.ReportingFile, which moves with it) before Apply,
// with the size of every report file at that moment, and the note is
// removed once the rows are written. A result filed again while a note is
// there cuts the reports back to the noted sizes, dropping whatever part
// of the rows the crash left, and writes the noted rows once more: a
// crash anywhere in between leaves each row exactly once.
//
// Only the tracker writes a job's reports, one result at a time, in the
// journal's order; after a crash the interrupted result is the first one
// filed again that writes rows, so nothing but its own rows lies past the
// noted sizes.

// reportingNote is workdir.ReportingFile's content. Notes written before Marks
// existed are a bare JSON array of keys.
type reportingNote struct {
	Keys  []string         `json:"keys"`
	Marks map[string]int64 `json:"marks"`
}

// dueRows notes the keys of fresh in the task folder at path, with the
// sizes of the job's reports in reports, before the result is applied, and
// returns fresh; with nothing fresh (the result was applied before) it
// cuts the reports back to the sizes a note left by an interrupted filing
// holds and returns the objects of res the note lists.
func dueRows(path, reports string, res protocol.TaskResult, fresh []protocol.ObjectResult) ([]protocol.ObjectResult, error) {
	note := filepath.Join(path, workdir.ReportingFile)
	if len(fresh) > 0 {
		marks, err := report.Marks(reports)
		if err != nil {
			return nil, fmt.Errorf("note the report rows due: %w", err)
		}
		n := reportingNote{Keys: make([]string, len(fresh)), Marks: marks}
		for i, o := range fresh {
			n.Keys[i] = o.Object.Key
		}
		data, err := json.Marshal(n)
		if err == nil {
			err = workdir.WriteFile(note, data)
		}
		if err != nil {
			return nil, fmt.Errorf("note the report rows due: %w", err)
		}
		return fresh, nil
	}
	n, ok := readNote(note)
	if !ok {
		return nil, nil
	}
	if err := report.Rewind(reports, n.Marks); err != nil {
		return nil, fmt.Errorf("drop the rows of an interrupted filing: %w", err)
	}
	due := make(map[string]bool, len(n.Keys))
	for _, k := range n.Keys {
		due[k] = true
	}
	var out []protocol.ObjectResult
	for _, o := range res.Objects {
		if due[o.Object.Key] {
			out = append(out, o)
			delete(due, o.Object.Key)
		}
	}
	return out, nil
}

// readNote reads a workdir.ReportingFile; ok is false when there is none (or it
// cannot be read, which leaves the rows as they are).
func readNote(path string) (n reportingNote, ok bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return n, false
	}
	if json.Unmarshal(data, &n) == nil {
		return n, true
	}
	if json.Unmarshal(data, &n.Keys) == nil { // an older note: keys only
		return n, true
	}
	return n, false
}

// rowsWritten removes the note of a task whose rows are written.
func (t *Tracker) rowsWritten(job, id string) {
	path, _, err := Locate(t.opts.Dir, job, id)
	if err != nil {
		return
	}
	if err := os.Remove(filepath.Join(path, workdir.ReportingFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.log.Warn("cannot record that a task's report rows are written", "job", job, "task", id, "err", err)
	}
}
