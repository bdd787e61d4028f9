package record

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// TestScanAuditReadsWhatTheWriterWrote: the one reader of audit.log
// gives back the lines the Writer wrote, knows the failures from the
// successes, and yields a failure's cause without its time.
func TestScanAuditReadsWhatTheWriterWrote(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "T")
	results := []transfer.Result{
		{Object: transfer.Object{Key: "ok"}, Code: transfer.Succeed, Size: 1},
		{Object: transfer.Object{Key: "a b"}, Code: transfer.SizeNotMatch, Detail: "source changed"},
		{Object: transfer.Object{Key: "gone"}, Code: transfer.Skipped, Detail: "exists"},
	}
	task := plan.Task{ID: "T", Job: "j"}
	for _, r := range results {
		task.Objects = append(task.Objects, r.Object)
	}
	w, err := Create(dir, task)
	if err != nil {
		t.Fatal(err)
	}
	w.now = func() time.Time { return time.Date(2026, 11, 24, 9, 12, 42, 0, time.UTC) }
	for _, r := range results {
		if err := w.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var codes []transfer.Code
	var causes []string
	if err := ScanAudit(dir, 0, func(e AuditEntry) {
		codes = append(codes, e.Code)
		if c, ok := e.Cause(); ok {
			if !e.Failed() {
				t.Errorf("a cause from a line that is no failure: %q", e.Line)
			}
			causes = append(causes, c)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if want := []transfer.Code{transfer.Succeed, transfer.SizeNotMatch, transfer.Skipped}; !slices.Equal(codes, want) {
		t.Errorf("codes %v, want %v", codes, want)
	}
	if want := []string{string(transfer.SizeNotMatch) + " a b Detail:source changed"}; !slices.Equal(causes, want) {
		t.Errorf("causes %q, want %q", causes, want)
	}
}

// TestScanAuditTail: with a tail, only the file's last bytes are read
// and the partial line they start in is dropped; a missing file has no
// lines and no error.
func TestScanAuditTail(t *testing.T) {
	dir := t.TempDir()
	var n int
	if err := ScanAudit(dir, 10, func(AuditEntry) { n++ }); err != nil || n != 0 {
		t.Fatalf("missing audit.log: %d lines, %v", n, err)
	}
	line1 := "2026-01-01 00:00:00 Succeed first Detail:"
	line2 := "2026-01-01 00:00:01 UploadFailed second Detail:boom"
	if err := os.WriteFile(filepath.Join(dir, workdir.AuditFile), []byte(line1+"\n\n"+line2+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := ScanAudit(dir, int64(len(line2)+3), func(e AuditEntry) { got = append(got, e.Line) }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{line2}) {
		t.Errorf("tail: %q, want only the last line", got)
	}
	got = nil
	if err := ScanAudit(dir, 0, func(e AuditEntry) { got = append(got, e.Line) }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{line1, line2}) {
		t.Errorf("whole file: %q (empty lines left out)", got)
	}
	if e := ParseAuditLine("short line"); e.Failed() {
		t.Error("a line without a code counted as a failure")
	}
}
