// Package record writes a task's records in ossimport's layout, for
// operators to troubleshoot:
//
//	<task>/TASK        the task: its objects, as JSON
//	<task>/STATUS      "Completed" or "Failed"
//	<task>/DONE        written when the task finished: the counters as JSON
//	                   when it succeeded, empty when it failed
//	<task>/audit.log   one line per object: <yyyy-MM-dd HH:mm:ss> <Result> <key> Detail:<message>
//	                   followed, for verified objects, by " Check:<crc64|crc32c|md5|etag|size-only>"
//	<task>/error.list  the keys of the failed objects, one per line
//
// Result codes are the closed set of transfer.Code. Keys containing a line
// break are written quoted (Go syntax) in error.list; in audit.log line
// breaks are written \n and \r, and keys that are not valid UTF-8 are
// written Go-quoted (AuditKey), so both files stay text.
package record

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// STATUS values.
const (
	Completed = "Completed"
	Failed    = "Failed"
)

// Counters summarise a task (or a job, when added up).
type Counters struct {
	Objects  int64 `json:"objects"` // planned
	Bytes    int64 `json:"bytes"`   // planned (known sizes)
	Copied   int64 `json:"copied"`  // copied and verified
	Verified int64 `json:"verified"`
	Skipped  int64 `json:"skipped"`
	Failed   int64 `json:"failed"`
	// CopiedBytes counts the bytes of copied objects; WrittenBytes the
	// bytes actually sent (less after a resumed upload or a server-side copy).
	CopiedBytes  int64 `json:"copiedBytes"`
	SkippedBytes int64 `json:"skippedBytes"`
	WrittenBytes int64 `json:"writtenBytes"`
	// SizeOnly counts the copied or audited objects verified by their
	// size alone: the destination reported no checksum to compare
	// (transfer.CheckSizeOnly).
	SizeOnly int64 `json:"sizeOnly,omitempty"`
	// ByCode counts results per code.
	ByCode map[transfer.Code]int64 `json:"byCode,omitempty"`
	// SkippedBy counts the skipped objects per reason (SkipReason).
	SkippedBy map[string]int64 `json:"skippedBy,omitempty"`
}

// Done is how many planned objects are finished: copied, skipped,
// failed, or verified by an audit (Verified also counts copies).
func (c Counters) Done() int64 {
	return c.Copied + c.Skipped + c.Failed + (c.Verified - c.Copied)
}

// Add counts one result.
func (c *Counters) Add(r transfer.Result) {
	c.add(r, SkipReason(r.Detail))
}

// add counts one result, a skipped one under the skip reason why.
func (c *Counters) add(r transfer.Result, why string) {
	if c.ByCode == nil {
		c.ByCode = map[transfer.Code]int64{}
	}
	c.ByCode[r.Code]++
	switch r.Code {
	case transfer.Succeed:
		c.Copied++
		c.Verified++
		c.CopiedBytes += r.Size
	case transfer.AuditOK:
		c.Verified++
	case transfer.Skipped:
		c.Skipped++
		c.SkippedBytes += max(r.Size, 0)
		if c.SkippedBy == nil {
			c.SkippedBy = map[string]int64{}
		}
		c.SkippedBy[why]++
	default:
		c.Failed++
	}
	c.WrittenBytes += r.Bytes
	if r.Code.OK() && r.Check == transfer.CheckSizeOnly {
		c.SizeOnly++
	}
}

// Merge adds other into c.
func (c *Counters) Merge(other Counters) {
	c.Objects += other.Objects
	c.Bytes += other.Bytes
	c.Copied += other.Copied
	c.Verified += other.Verified
	c.Skipped += other.Skipped
	c.Failed += other.Failed
	c.CopiedBytes += other.CopiedBytes
	c.SkippedBytes += other.SkippedBytes
	c.WrittenBytes += other.WrittenBytes
	c.SizeOnly += other.SizeOnly
	for code, n := range other.ByCode {
		if c.ByCode == nil {
			c.ByCode = map[transfer.Code]int64{}
		}
		c.ByCode[code] += n
	}
	for why, n := range other.SkippedBy {
		if c.SkippedBy == nil {
			c.SkippedBy = map[string]int64{}
		}
		c.SkippedBy[why] += n
	}
}

// Writer records one task's results as they come. It is safe for
// concurrent use.
type Writer struct {
	dir    string
	mu     sync.Mutex
	audit  *os.File
	auditW *bufio.Writer
	errF   *os.File
	errW   *bufio.Writer
	progF  *os.File
	// auditEnd is audit.log's size once the lines written so far are
	// flushed; pending holds the progress lines not yet committed (see
	// Commit).
	auditEnd int64
	pending  []byte
	counters Counters
	now      func() time.Time
}

// Create makes dir, writes TASK, and opens audit.log and error.list. An
// existing audit.log is appended to, so a retried task keeps its history.
func Create(dir string, t plan.Task) (*Writer, error) {
	if err := WriteTask(dir, t); err != nil {
		return nil, err
	}
	return open(dir, t)
}

// open opens the logs of the task t in dir, whose TASK is written.
func open(dir string, t plan.Task) (*Writer, error) {
	audit, err := os.OpenFile(filepath.Join(dir, workdir.AuditFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	errF, err := os.Create(filepath.Join(dir, workdir.ErrorFile))
	if err != nil {
		_ = audit.Close()
		return nil, fmt.Errorf("create error list: %w", err)
	}
	progF, err := os.OpenFile(filepath.Join(dir, workdir.FinishedFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		_ = audit.Close()
		_ = errF.Close()
		return nil, fmt.Errorf("open task progress: %w", err)
	}
	end, err := audit.Seek(0, io.SeekEnd)
	if err != nil {
		_ = audit.Close()
		_ = errF.Close()
		_ = progF.Close()
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	w := &Writer{dir: dir, audit: audit, auditW: bufio.NewWriter(audit), errF: errF, errW: bufio.NewWriter(errF),
		progF: progF, auditEnd: end, now: time.Now}
	w.counters.Objects = int64(len(t.Objects))
	for _, o := range t.Objects {
		w.counters.Bytes += max(o.Size, 0)
	}
	return w, nil
}

// WriteTask writes dir/TASK atomically, creating dir.
func WriteTask(dir string, t plan.Task) error {
	data, err := t.MarshalJSON() // plan.Task encodes itself: no reflection, no second pass
	if err != nil {
		return fmt.Errorf("encode task %s: %w", t.ID, err)
	}
	return workdir.WriteFile(filepath.Join(dir, workdir.TaskFile), data)
}

// ReadTask reads dir/TASK.
func ReadTask(dir string) (plan.Task, error) {
	var t plan.Task
	data, err := os.ReadFile(filepath.Join(dir, workdir.TaskFile))
	if err != nil {
		return t, fmt.Errorf("read task: %w", err)
	}
	if err := json.Unmarshal(data, &t); err != nil {
		return t, fmt.Errorf("read task %s: %w", dir, err)
	}
	return t, nil
}

// Add records one object's result.
func (w *Writer) Add(r transfer.Result) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.counters.Add(r)
	n, err := w.auditW.WriteString(auditLine(r, w.now().Format(time.DateTime)) + "\n")
	w.auditEnd += int64(n)
	if err != nil {
		return fmt.Errorf("write audit log: %w", err)
	}
	if !r.Code.OK() {
		if _, err := w.errW.WriteString(EncodeKey(r.Object.Key) + "\n"); err != nil {
			return fmt.Errorf("write error list: %w", err)
		}
	}
	l := finishedLine{Key: r.Object.Key, Code: r.Code, AuditEnd: w.auditEnd}
	if r.Code == transfer.Skipped {
		l.Why = SkipReason(r.Detail)
	}
	return w.finished(l)
}

// lineBreaks keeps an audit.log record on one line.
var lineBreaks = strings.NewReplacer("\n", `\n`, "\r", `\r`)

// Close flushes the logs and writes STATUS and DONE.
func (w *Writer) Close() (Counters, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	err := w.closeFiles()
	if err != nil {
		return w.counters, err
	}
	status, done := Completed, []byte{}
	if w.counters.Failed > 0 {
		status = Failed
	} else if done, err = json.Marshal(w.counters); err != nil {
		return w.counters, err
	}
	if err := workdir.WriteFile(filepath.Join(w.dir, workdir.StatusFile), []byte(status+"\n")); err != nil {
		return w.counters, err
	}
	return w.counters, workdir.WriteFile(filepath.Join(w.dir, workdir.DoneFile), done)
}

// Suspend flushes and closes the logs of a task interrupted before its
// end, writing neither STATUS nor DONE: Resume continues it, and its
// audit.log keeps the objects finished so far.
func (w *Writer) Suspend() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closeFiles()
}

func (w *Writer) closeFiles() error {
	err := errors.Join(w.commit(), w.audit.Close(), w.errF.Close(), w.progF.Close())
	if err != nil {
		return fmt.Errorf("close task records in %s: %w", w.dir, err)
	}
	return nil
}

// EncodeKey renders a key for error.list: as is, or Go-quoted when it
// contains a line break or starts with a quote.
func EncodeKey(key string) string {
	if strings.ContainsAny(key, "\r\n") || strings.HasPrefix(key, `"`) {
		return strconv.Quote(key)
	}
	return key
}

// ReadErrorList returns the keys in dir/error.list.
func ReadErrorList(dir string) ([]string, error) {
	f, err := os.Open(filepath.Join(dir, workdir.ErrorFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read error list: %w", err)
	}
	defer f.Close()
	var keys []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, `"`) {
			if k, err := strconv.Unquote(line); err == nil {
				line = k
			}
		}
		keys = append(keys, line)
	}
	return keys, sc.Err()
}
