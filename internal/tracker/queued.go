package tracker

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/workdir"
)

// Retries returns how many times the task in folder dir was retried.
func Retries(dir string) int {
	data, _ := os.ReadFile(filepath.Join(dir, workdir.RetriesFile))
	n, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	return n
}

// SetRetries records that the task in folder dir is in its nth retry.
func SetRetries(dir string, n int) error {
	return workdir.WriteFile(filepath.Join(dir, workdir.RetriesFile), []byte(strconv.Itoa(n)+"\n"))
}

// QueuedTask returns a pending task as the queue carries it — its objects
// not yet finished — and the retry it is in (0 before any retry).
func QueuedTask(dir workdir.Dir, job, id string) (plan.Task, int, error) {
	path, state, err := Locate(dir, job, id)
	if err == nil && state != workdir.Pending {
		err = ErrUnknownTask
	}
	if err != nil {
		return plan.Task{}, 0, err
	}
	t, err := record.ReadTask(path)
	if err != nil {
		return t, 0, err
	}
	p, err := record.ReadFinished(path)
	if err != nil {
		return t, 0, err
	}
	t.Objects, _ = p.Resume(t.Objects)
	return t, Retries(path), nil
}
