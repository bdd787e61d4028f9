package tracker

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"

	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/workdir"
)

// A result's report rows are written after Apply filed it, and a
// result filed again (the journal marker lags after a crash) adds no rows
// for objects the task already holds as finished. A crash between the two
// would lose the rows: the keys the rows are due for are therefore noted
// in the task folder (ReportingFile, which moves with it) before Apply,
// and the note is removed once the rows are written. A result filed
// again writes the rows a note still lists.

// ReportingFile in a task folder lists the keys of a result whose report
// rows are not written yet.
const ReportingFile = "REPORTING"

// dueRows notes the keys of fresh in the task folder at path before the
// result is applied, and returns fresh; with nothing fresh (the result
// was applied before) it returns the objects of res a note left by an
// interrupted filing still lists.
func dueRows(path string, res protocol.TaskResult, fresh []protocol.ObjectResult) []protocol.ObjectResult {
	note := filepath.Join(path, ReportingFile)
	if len(fresh) > 0 {
		keys := make([]string, len(fresh))
		for i, o := range fresh {
			keys[i] = o.Object.Key
		}
		data, _ := json.Marshal(keys)
		_ = workdir.WriteFile(note, data)
		return fresh
	}
	data, err := os.ReadFile(note)
	if err != nil {
		return nil
	}
	var keys []string
	if json.Unmarshal(data, &keys) != nil {
		return nil
	}
	due := make(map[string]bool, len(keys))
	for _, k := range keys {
		due[k] = true
	}
	var out []protocol.ObjectResult
	for _, o := range res.Objects {
		if due[o.Object.Key] {
			out = append(out, o)
			delete(due, o.Object.Key)
		}
	}
	return out
}

// rowsWritten removes the note of a task whose rows are written.
func (t *Tracker) rowsWritten(job, id string) {
	path, _, err := Locate(t.opts.Dir, job, id)
	if err != nil {
		return
	}
	if err := os.Remove(filepath.Join(path, ReportingFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.log.Warn("cannot record that a task's report rows are written", "job", job, "task", id, "err", err)
	}
}
