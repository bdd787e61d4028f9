package dashboard

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ossimport/ossimport/internal/logging"
	"github.com/ossimport/ossimport/internal/workdir"
)

// LogNames are the service's log files the dashboard tails, by the
// name the API takes: import.log holds the job-level lines (jobs
// started, scans, failed objects, jobs finished).
var LogNames = map[string]string{
	"import":  workdir.ImportLog,
	"master":  workdir.MasterLog,
	"tracker": workdir.TrackerLog,
	"worker":  workdir.WorkerLog,
}

// logOrder is the order the page offers the logs in.
var logOrder = []string{"import", "master", "tracker", "worker"}

// LogTail is the end of a log file.
type LogTail struct {
	Name string `json:"name"`
	// File is the log's path relative to the working directory.
	File string `json:"file"`
	// Lines are the last lines, oldest first (from the file's last
	// maxTailBytes), secrets masked, each cut at maxLineBytes.
	Lines    []string  `json:"lines"`
	Size     int64     `json:"size"`
	Modified time.Time `json:"modified,omitzero"`
	// Missing is set when there is no such file yet.
	Missing bool     `json:"missing,omitempty"`
	Names   []string `json:"names"`
}

// maxTailBytes is how much of the end of a log file is read at most.
const maxTailBytes = 256 << 10

// ReadLogTail returns the last n lines of the log named name (a key of
// LogNames) in dir's logs folder.
func ReadLogTail(dir workdir.Dir, name string, n int) (LogTail, error) {
	file, ok := LogNames[name]
	if !ok {
		return LogTail{}, fmt.Errorf("no log named %q (the logs are %s)", clip(name, 64), strings.Join(logOrder, ", "))
	}
	if n < 1 {
		return LogTail{}, fmt.Errorf("tail %s: lines must be positive (%d)", file, n)
	}
	path := filepath.Join(dir.Logs(), file)
	tail := LogTail{Name: name, File: filepath.Join("logs", file), Lines: []string{}, Names: logOrder}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		tail.Missing = true
		return tail, nil
	}
	if err != nil {
		return tail, fmt.Errorf("tail %s: %w", file, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return tail, fmt.Errorf("tail %s: %w", file, err)
	}
	tail.Size, tail.Modified = fi.Size(), fi.ModTime()
	from := max(fi.Size()-maxTailBytes, 0)
	data, err := io.ReadAll(io.NewSectionReader(f, from, fi.Size()-from))
	if err != nil {
		return tail, fmt.Errorf("tail %s: %w", file, err)
	}
	if from > 0 {
		// The first line read is cut: start at the next one.
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			data = data[i+1:]
		}
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) == 1 && lines[0] == "" {
		lines = nil
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	for _, l := range lines {
		tail.Lines = append(tail.Lines, clip(logging.MaskText(strings.ToValidUTF8(l, "\uFFFD")), maxLineBytes))
	}
	return tail, nil
}
