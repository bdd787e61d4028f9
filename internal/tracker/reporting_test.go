package tracker

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/report"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// TestRowsDueAfterACrashAreWrittenOnce: the keys of a result's rows are
// noted before the result is applied; filed again after a crash that
// came before the rows (nothing fresh any more), the result gives the
// noted objects' rows, and none once the note is gone.
func TestRowsDueAfterACrashAreWrittenOnce(t *testing.T) {
	path, reports := t.TempDir(), t.TempDir()
	obj := func(k string) protocol.ObjectResult {
		return protocol.ObjectResult{Object: transfer.Object{Key: k}, Code: transfer.Succeed}
	}
	res := protocol.TaskResult{Job: "j", TaskID: "T", Objects: []protocol.ObjectResult{obj("a"), obj("b"), obj("c")}}
	if got, err := dueRows(path, reports, res, res.Objects[1:]); err != nil || len(got) != 2 {
		t.Fatalf("fresh rows %v (%v)", got, err)
	}
	got, err := dueRows(path, reports, res, nil)
	if err != nil || len(got) != 2 || got[0].Object.Key != "b" || got[1].Object.Key != "c" {
		t.Fatalf("rows due after a crash: %v (%v), want b and c", got, err)
	}
	if err := os.Remove(filepath.Join(path, workdir.ReportingFile)); err != nil {
		t.Fatal(err)
	}
	if got, err := dueRows(path, reports, res, nil); err != nil || len(got) != 0 {
		t.Fatalf("rows written twice: %v (%v)", got, err)
	}
	// A note of an older version (keys only) still names the rows due.
	if err := os.WriteFile(filepath.Join(path, workdir.ReportingFile), []byte(`["c"]`), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := dueRows(path, reports, res, nil); err != nil || len(got) != 1 || got[0].Object.Key != "c" {
		t.Fatalf("rows due from an older note: %v (%v), want c", got, err)
	}
}

// TestRowsOfAnInterruptedFilingAreNotDoubled: a result whose rows were
// written, in full or in part, by a filing that crashed before it removed
// its note is filed again: every object ends with exactly one row in each
// report file, and rows filed before it stay.
func TestRowsOfAnInterruptedFilingAreNotDoubled(t *testing.T) {
	for _, tc := range []struct {
		name string
		tear func(t *testing.T, reports string) // what the crash left of the rows
	}{
		{"after every row", func(*testing.T, string) {}},
		{"in the middle of a row", func(t *testing.T, reports string) {
			cut(t, filepath.Join(reports, report.Copied+".jsonl"), 7) // c's JSONL row half written
		}},
		{"between a row's two files", func(t *testing.T, reports string) {
			cut(t, filepath.Join(reports, report.Copied+".jsonl"), lastLine(t, filepath.Join(reports, report.Copied+".jsonl")))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := workdir.Dir(t.TempDir())
			reports := dir.Reports("j")
			var objs []transfer.Object
			for _, k := range []string{"a", "b", "c", "d"} {
				objs = append(objs, transfer.Object{Key: k, Size: 1})
			}
			for _, id := range []string{"T1", "T2"} {
				task := plan.Task{ID: id, Job: "j", Objects: objs[:2]}
				if id == "T2" {
					task.Objects = objs[2:]
				}
				if err := record.WriteTask(dir.Task("j", workdir.Pending, "", id), task); err != nil {
					t.Fatal(err)
				}
			}
			m := NewFiling(dir, nil)
			now := time.Now()
			result := func(id string, objs ...transfer.Object) protocol.TaskResult {
				res := protocol.TaskResult{Job: "j", TaskID: id, Worker: "w", Finished: now}
				for _, o := range objs {
					res.Objects = append(res.Objects, protocol.ObjectResult{Object: o, Code: transfer.Succeed, Size: 1, At: now})
				}
				return res
			}
			if _, err := m.ApplyResult(result("T1", objs[:2]...)); err != nil {
				t.Fatal(err)
			}
			// T2 filed up to its rows; the crash comes before the note is removed.
			marks, err := report.Marks(reports)
			if err != nil {
				t.Fatal(err)
			}
			res := result("T2", objs[2:]...)
			if _, err := m.ApplyResult(res); err != nil {
				t.Fatal(err)
			}
			path, state, err := Locate(dir, "j", "T2")
			if err != nil || state != workdir.Succeed {
				t.Fatalf("T2 in %s (%v), want succeeded", state, err)
			}
			if err := os.WriteFile(filepath.Join(path, workdir.ReportingFile), []byte(noteJSON(t, []string{"c", "d"}, marks)), 0o644); err != nil {
				t.Fatal(err)
			}
			tc.tear(t, reports)

			if _, err := m.ApplyResult(res); err != nil { // filed again after the restart
				t.Fatal(err)
			}
			for _, file := range []string{report.Copied + ".csv", report.Copied + ".jsonl"} {
				if got := keysIn(t, filepath.Join(reports, file)); got != "a b c d" {
					t.Errorf("%s holds rows of %q, want one each of a b c d", file, got)
				}
			}
			if _, err := os.Stat(filepath.Join(path, workdir.ReportingFile)); !os.IsNotExist(err) {
				t.Errorf("the note is still there (%v)", err)
			}
		})
	}
}

// cut drops the last n bytes of the file at path.
func cut(t *testing.T, path string, n int64) {
	t.Helper()
	st, err := os.Stat(path)
	if err == nil {
		err = os.Truncate(path, st.Size()-n)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// lastLine returns the length of the file's last line, with its break.
func lastLine(t *testing.T, path string) int64 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return int64(len(data) - 1 - bytes.LastIndexByte(data[:len(data)-1], '\n'))
}

func noteJSON(t *testing.T, keys []string, marks map[string]int64) string {
	t.Helper()
	data, err := json.Marshal(reportingNote{Keys: keys, Marks: marks})
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// keysIn lists the keys of a report file's rows, in order.
func keysIn(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var keys []string
	if strings.HasSuffix(path, ".csv") {
		rows, err := csv.NewReader(f).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, r := range rows[1:] {
			keys = append(keys, r[0])
		}
		return strings.Join(keys, " ")
	}
	dec := json.NewDecoder(f)
	for {
		var r report.Row
		if err := dec.Decode(&r); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		keys = append(keys, r.Key)
	}
	return strings.Join(keys, " ")
}
