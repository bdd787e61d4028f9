package dashboard

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/workdir"
)

// FailedTask is one failed task with the start of its error list and the
// last audit lines of its failed objects.
type FailedTask struct {
	ID      string `json:"id"`
	Objects int    `json:"objects"` // objects in the task
	Retries int    `json:"retries"` // times it was retried
	// Errors holds the first lines of error.list (keys, Go-quoted when
	// they hold a line break); ErrorsOmitted counts the lines left out.
	Errors        []string `json:"errors"`
	ErrorsOmitted int      `json:"errorsOmitted"`
	// Audit holds the last audit.log lines whose result is a failure,
	// oldest first; AuditOmitted counts the failure lines left out.
	Audit        []string `json:"audit"`
	AuditOmitted int      `json:"auditOmitted"`
	// Problem says why part of the task could not be read.
	Problem string `json:"problem,omitempty"`
}

// FailedList is the failed tasks of a job.
type FailedList struct {
	Job   string       `json:"job"`
	Tasks []FailedTask `json:"tasks"`
	// TasksOmitted counts the failed tasks left out.
	TasksOmitted int `json:"tasksOmitted"`
	// Lines is the cap on the error keys and audit lines of each task.
	Lines int `json:"linesPerTask"`
}

// maxLineBytes caps one line as shown; longer lines are cut.
const maxLineBytes = 2048

// ReadFailed lists the failed tasks of job in dir, at most tasks of them
// with at most lines error keys and audit lines each. The caller checks
// that job is a job of dir.
func ReadFailed(dir workdir.Dir, job string, tasks, lines int) (FailedList, error) {
	if tasks < 1 || lines < 1 {
		return FailedList{}, fmt.Errorf("list failed tasks: limits must be positive (tasks %d, lines %d)", tasks, lines)
	}
	list := FailedList{Job: job, Tasks: []FailedTask{}, Lines: lines}
	ids := workdir.Subdirs(filepath.Join(dir.Job(job), workdir.Failed))
	if len(ids) > tasks {
		list.TasksOmitted = len(ids) - tasks
		ids = ids[:tasks]
	}
	for _, id := range ids {
		ft, err := readFailedTask(dir.Task(job, workdir.Failed, "", id), id, lines)
		if errors.Is(err, fs.ErrNotExist) {
			continue // retried or cleaned meanwhile
		}
		if err != nil {
			ft.Problem = err.Error()
		}
		list.Tasks = append(list.Tasks, ft)
	}
	return list, nil
}

// readFailedTask reads one failed task folder.
func readFailedTask(tdir, id string, lines int) (FailedTask, error) {
	ft := FailedTask{ID: id, Errors: []string{}, Audit: []string{}}
	if _, err := os.Stat(tdir); err != nil {
		return ft, err
	}
	var problems []error
	if t, err := record.ReadTask(tdir); err != nil {
		problems = append(problems, err)
	} else {
		ft.Objects = len(t.Objects)
	}
	ft.Retries = tracker.Retries(tdir)
	err := scanLines(filepath.Join(tdir, workdir.ErrorFile), func(line string) {
		if len(ft.Errors) < lines {
			ft.Errors = append(ft.Errors, clip(record.AuditKey(line), maxLineBytes)) // a name not UTF-8 shown quoted, as audit.log has it
		} else {
			ft.ErrorsOmitted++
		}
	})
	if err != nil {
		problems = append(problems, fmt.Errorf("read %s: %w", workdir.ErrorFile, err))
	}
	// The last failure lines: a ring of lines entries.
	ring := make([]string, 0, lines)
	next, seen := 0, 0
	err = record.ScanAudit(tdir, 0, func(e record.AuditEntry) {
		if !e.Failed() {
			return
		}
		seen++
		line := clip(e.Line, maxLineBytes)
		if len(ring) < lines {
			ring = append(ring, line)
			return
		}
		ring[next] = line
		next = (next + 1) % lines
	})
	if err != nil {
		problems = append(problems, err)
	}
	ft.Audit = append(ft.Audit, ring[next:]...)
	ft.Audit = append(ft.Audit, ring[:next]...)
	ft.AuditOmitted = seen - len(ft.Audit)
	return ft, errors.Join(problems...)
}

// scanLines calls fn with every line of a file; a missing file has none.
func scanLines(path string, fn func(string)) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if line := sc.Text(); line != "" {
			fn(line)
		}
	}
	return sc.Err()
}
