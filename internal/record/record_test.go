package record

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/transfer"
)

func TestTaskRecords(t *testing.T) {
	tests := []struct {
		name    string
		results []transfer.Result
		status  string
		errList []string
	}{
		{"all copied", []transfer.Result{
			{Object: transfer.Object{Key: "a"}, Code: transfer.Succeed, Size: 3, Bytes: 3, Detail: "size=3"},
			{Object: transfer.Object{Key: "b c"}, Code: transfer.Skipped, Detail: "exists"},
		}, Completed, nil},
		{"one failed", []transfer.Result{
			{Object: transfer.Object{Key: "ok"}, Code: transfer.Succeed, Size: 1},
			{Object: transfer.Object{Key: "dir/changed"}, Code: transfer.SizeNotMatch, Err: errors.New("x"), Detail: "source changed"},
			{Object: transfer.Object{Key: "bad\nname"}, Code: transfer.InvalidName, Detail: "line break"},
		}, Failed, []string{"dir/changed", "bad\nname"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "TASKID_1")
			task := plan.Task{ID: "TASKID_1", Job: "job"}
			for _, r := range tc.results {
				task.Objects = append(task.Objects, r.Object)
			}
			w, err := Create(dir, task)
			if err != nil {
				t.Fatal(err)
			}
			w.now = func() time.Time { return time.Date(2026, 11, 24, 9, 12, 42, 0, time.UTC) }
			for _, r := range tc.results {
				if err := w.Add(r); err != nil {
					t.Fatal(err)
				}
			}
			c, err := w.Close()
			if err != nil {
				t.Fatal(err)
			}
			if c.Objects != int64(len(tc.results)) || c.Failed != int64(len(tc.errList)) {
				t.Errorf("counters %+v", c)
			}
			status, _ := os.ReadFile(filepath.Join(dir, StatusFile))
			if strings.TrimSpace(string(status)) != tc.status {
				t.Errorf("STATUS %q, want %q", status, tc.status)
			}
			done, err := os.ReadFile(filepath.Join(dir, DoneFile))
			if err != nil || (tc.status == Failed) != (len(done) == 0) {
				t.Errorf("DONE %q (%v): want empty exactly when failed", done, err)
			}
			audit, _ := os.ReadFile(filepath.Join(dir, AuditFile))
			lines := strings.Split(strings.TrimSuffix(string(audit), "\n"), "\n")
			re := regexp.MustCompile(`^2026-11-24 09:12:42 (\S+) (.+) Detail:(.*)$`)
			for i, l := range lines {
				m := re.FindStringSubmatch(l)
				if m == nil || m[1] != string(tc.results[i].Code) {
					t.Errorf("audit line %q does not match the format or code %s", l, tc.results[i].Code)
				}
			}
			keys, err := ReadErrorList(dir)
			if err != nil || !slices.Equal(keys, tc.errList) {
				t.Errorf("error.list keys %q (%v), want %q", keys, err, tc.errList)
			}
			back, err := ReadTask(dir)
			if err != nil || back.ID != task.ID || len(back.Objects) != len(task.Objects) {
				t.Errorf("TASK read back %+v (%v)", back, err)
			}
		})
	}
}
