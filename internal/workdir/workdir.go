// Package workdir owns the layout of ossimport's working directory, the
// view operators read to troubleshoot: every folder and file name in it
// is declared in layout.go, and the other packages build their paths
// from it.
package workdir

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/ossimport/ossimport/internal/plan"
)

// WriteFile writes data to path atomically: a temporary file in the same
// folder, synced, then renamed. Parent folders are created.
func WriteFile(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	err = errors.Join(err, tmp.Sync(), tmp.Close())
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// SaveCheckpoint writes a scan checkpoint.
func SaveCheckpoint(path string, cp *plan.Checkpoint) error {
	data, err := json.Marshal(cp)
	if err != nil {
		return fmt.Errorf("encode checkpoint: %w", err)
	}
	return WriteFile(path, data)
}

// LoadCheckpoint reads a scan checkpoint; a missing file yields (nil, nil).
func LoadCheckpoint(path string) (*plan.Checkpoint, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	var cp plan.Checkpoint
	if err := json.Unmarshal(data, &cp); err != nil {
		return nil, fmt.Errorf("read checkpoint %s: %w (delete it to scan the source again from the start)", path, err)
	}
	return &cp, nil
}

// Move moves a task folder from one state to another, replacing a stale
// copy at the target (left by a crash between two moves).
func Move(from, to string) error {
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return fmt.Errorf("move task: %w", err)
	}
	if err := os.RemoveAll(to); err != nil {
		return fmt.Errorf("move task: %w", err)
	}
	if err := os.Rename(from, to); err != nil {
		return fmt.Errorf("move task: %w", err)
	}
	return nil
}

// Subdirs lists the sub-folders of dir, sorted; a missing dir has none.
func Subdirs(dir string) []string {
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names
}

// EachJSONLine decodes each line of the JSON-lines file at path into a T
// and hands it to fn. A missing file has no lines; a line that does not
// decode (torn by a crash while it was appended) is skipped. maxLine
// bounds a line's length.
func EachJSONLine[T any](path string, maxLine int, fn func(T)) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, min(64<<10, maxLine)), maxLine)
	for sc.Scan() {
		var v T
		if json.Unmarshal(sc.Bytes(), &v) == nil {
			fn(v)
		}
	}
	return sc.Err()
}
