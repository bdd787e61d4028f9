package record

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// TestAuditLineEscaping: every audit.log line is one line of valid UTF-8
// (grep treats the file as text), and AuditKey renders the key as the
// line holds it.
func TestAuditLineEscaping(t *testing.T) {
	tests := []struct {
		name, key, detail string
		wantKey, wantRest string
	}{
		{"plain", "dir/a b.txt", "size=3", "dir/a b.txt", "Detail:size=3"},
		{"utf-8 name", "目录/文件.txt", "ok", "目录/文件.txt", "Detail:ok"},
		{"line break", "bad\nname", "x\ny", `bad\nname`, `Detail:x\ny`},
		{"gbk name", "bad\xc4\xe3name.txt", "raw \xff in detail", `"bad\xc4\xe3name.txt"`, `Detail:raw \xff in detail`},
		{"gbk name with a line break", "a\xff\nb", "", `"a\xff\nb"`, "Detail:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "T")
			obj := transfer.Object{Key: tc.key}
			w, err := Create(dir, plan.Task{ID: "T", Job: "job", Objects: []transfer.Object{obj}})
			if err != nil {
				t.Fatal(err)
			}
			w.now = func() time.Time { return time.Date(2026, 11, 24, 9, 12, 42, 0, time.UTC) }
			if err := w.Add(transfer.Result{Object: obj, Code: transfer.InvalidName, Detail: tc.detail}); err != nil {
				t.Fatal(err)
			}
			if _, err := w.Close(); err != nil {
				t.Fatal(err)
			}
			data, _ := os.ReadFile(filepath.Join(dir, workdir.AuditFile))
			want := "2026-11-24 09:12:42 InvalidName " + tc.wantKey + " " + tc.wantRest + "\n"
			if string(data) != want || !utf8.Valid(data) || strings.Count(string(data), "\n") != 1 {
				t.Fatalf("audit.log %q, want %q (one line of UTF-8)", data, want)
			}
			if got := AuditKey(tc.key); got != tc.wantKey {
				t.Errorf("AuditKey(%q) = %q, want %q", tc.key, got, tc.wantKey)
			}
			keys, err := ReadErrorList(dir)
			if err != nil || !slices.Equal(keys, []string{tc.key}) {
				t.Errorf("error.list %q (%v), want the raw key", keys, err)
			}
		})
	}
}

// TestRequeueLeavesPermanentFailures: a retry copies the objects that
// failed for a reason that may pass, not those whose names can never be
// copied; those stay counted as failed (and listed in error.list) when
// the retried task ends, so it ends Failed with them.
func TestRequeueLeavesPermanentFailures(t *testing.T) {
	root := t.TempDir()
	failed, pending := filepath.Join(root, "failed", "T"), filepath.Join(root, "pending", "T")
	objs := []transfer.Object{{Key: "ok", Size: 1}, {Key: "bad\xffname", Size: 2}, {Key: "flaky", Size: 3}, {Key: "never-reported", Size: 4}}
	w, err := Create(failed, plan.Task{ID: "T", Job: "job", Objects: objs})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []transfer.Result{
		{Object: objs[0], Code: transfer.Succeed, Size: 1},
		{Object: objs[1], Code: transfer.InvalidName, Detail: "not UTF-8"},
		{Object: objs[2], Code: transfer.UploadFailed, Detail: "503"},
	} {
		if err := w.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	retryable, permanent, err := Failures(failed)
	if err != nil || retryable != 2 || !slices.Equal(permanent, []string{"bad\xffname"}) {
		t.Fatalf("Failures: %d retryable, permanent %q (%v); want 2 and the bad name", retryable, permanent, err)
	}
	retry, err := Requeue(failed, pending)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range retry.Objects {
		keys = append(keys, o.Key)
	}
	if !slices.Equal(keys, []string{"flaky", "never-reported"}) {
		t.Fatalf("the retry copies %q, want flaky and never-reported", keys)
	}

	// The retry copies both: the task still ends Failed, with the bad
	// name counted and listed once.
	w, _, _, err = Resume(pending)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range retry.Objects {
		if err := w.Add(transfer.Result{Object: o, Code: transfer.Succeed, Size: o.Size}); err != nil {
			t.Fatal(err)
		}
	}
	c, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	if c.Objects != 4 || c.Copied != 3 || c.Failed != 1 || c.ByCode[transfer.InvalidName] != 1 || c.Done() != 4 {
		t.Fatalf("counters after the retry %+v: want 3 copied, 1 InvalidName, all 4 done", c)
	}
	status, _ := os.ReadFile(filepath.Join(pending, workdir.StatusFile))
	list, _ := ReadErrorList(pending)
	if strings.TrimSpace(string(status)) != Failed || !slices.Equal(list, []string{"bad\xffname"}) {
		t.Fatalf("STATUS %q, error.list %q: want Failed with the bad name", status, list)
	}
	if retryable, permanent, _ := Failures(pending); retryable != 0 || len(permanent) != 1 {
		t.Fatalf("after the retry: %d retryable, %q permanent; want only the bad name", retryable, permanent)
	}
}
