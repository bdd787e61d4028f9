package tracker

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/transfer"
)

// TestRowsDueAfterACrashAreWrittenOnce: the keys of a result's rows are
// noted before the result is applied; filed again after a crash that
// came before the rows (nothing fresh any more), the result gives the
// noted objects' rows, and none once the note is gone.
func TestRowsDueAfterACrashAreWrittenOnce(t *testing.T) {
	path := t.TempDir()
	obj := func(k string) protocol.ObjectResult {
		return protocol.ObjectResult{Object: transfer.Object{Key: k}, Code: transfer.Succeed}
	}
	res := protocol.TaskResult{Job: "j", TaskID: "T", Objects: []protocol.ObjectResult{obj("a"), obj("b"), obj("c")}}
	if got := dueRows(path, res, res.Objects[1:]); len(got) != 2 {
		t.Fatalf("fresh rows %v", got)
	}
	got := dueRows(path, res, nil)
	if len(got) != 2 || got[0].Object.Key != "b" || got[1].Object.Key != "c" {
		t.Fatalf("rows due after a crash: %v, want b and c", got)
	}
	if err := os.Remove(filepath.Join(path, ReportingFile)); err != nil {
		t.Fatal(err)
	}
	if got := dueRows(path, res, nil); len(got) != 0 {
		t.Fatalf("rows written twice: %v", got)
	}
}
