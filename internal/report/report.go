// Package report writes a job's machine-readable object reports under
// master/jobs/<job>/reports/, for operators to feed into scripts and
// spreadsheets:
//
//	failed.csv    failed.jsonl    key, destination key, code, message, size, time
//	skipped.csv   skipped.jsonl   key, reason, time
//	copied.csv    copied.jsonl    key, destination key, size, crc64, md5, time, check, crc32c
//	verified.csv  verified.jsonl  key, destination key, size, time, check (jobType=audit: AuditOK)
//
// check names what verification compared: crc64, crc32c, md5, etag or
// size-only (see transfer.CheckCRC64 and the others). crc32c came last,
// after the other columns: a copied.csv begun without it (by an earlier
// version, for a job resumed since) goes on without it.
//
// Rows are streamed to the files as results arrive (nothing is held in
// memory) and the files are appended to, so a resumed or retried run adds
// to them: an object retried after a failure has a row in failed.* and,
// once it succeeds, one in copied.*.
//
// Every record is one line. In CSV (RFC 4180, with a header row) a key
// that is not valid UTF-8, contains a line break or starts with a double
// quote is written Go-quoted (strconv.Quote; DecodeKey reverses it), and
// line breaks in messages are escaped as \n and \r. In JSONL such keys
// travel as raw bytes in base64, in "kb" (and "db" for the destination
// key), as in transfer.Object's JSON. crc64 is decimal (as OSS reports
// x-oss-hash-crc64ecma), crc32c base64 (as S3 reports
// x-amz-checksum-crc32c), md5 lowercase hex; each is empty when unknown.
package report

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/csv"
	"encoding/hex"
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
	"unicode/utf8"

	"github.com/ossimport/ossimport/internal/transfer"
)

// Report names; each is written as <name>.csv and <name>.jsonl.
const (
	Failed   = "failed"
	Skipped  = "skipped"
	Copied   = "copied"
	Verified = "verified"
)

// Names lists the reports in the order Open creates them.
var Names = []string{Failed, Skipped, Copied, Verified}

// headers are the CSV header rows.
var headers = map[string][]string{
	Failed:   {"key", "dst_key", "code", "message", "size", "time"},
	Skipped:  {"key", "reason", "time"},
	Copied:   {"key", "dst_key", "size", "crc64", "md5", "time", "check", "crc32c"},
	Verified: {"key", "dst_key", "size", "time", "check"},
}

// Route names the report a result code goes to.
func Route(c transfer.Code) string {
	switch c {
	case transfer.Succeed:
		return Copied
	case transfer.Skipped:
		return Skipped
	case transfer.AuditOK:
		return Verified
	}
	return Failed
}

// Row is one line of a JSONL report. Fields that do not apply to a report
// are omitted.
type Row struct {
	Key      string `json:"key"`
	KeyBytes []byte `json:"kb,omitempty"`
	DstKey   string `json:"dstKey,omitempty"`
	DstBytes []byte `json:"db,omitempty"`
	Code     string `json:"code,omitempty"`
	Message  string `json:"message,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Size     *int64 `json:"size,omitempty"`
	CRC64    string `json:"crc64,omitempty"`
	CRC32C   string `json:"crc32c,omitempty"`
	MD5      string `json:"md5,omitempty"`
	Time     string `json:"time"`
	Check    string `json:"check,omitempty"`
}

// SourceKey returns the row's key, decoded from "kb" when it was not
// valid UTF-8.
func (r Row) SourceKey() string {
	if r.KeyBytes != nil {
		return string(r.KeyBytes)
	}
	return r.Key
}

// DestinationKey returns the row's destination key, decoded from "db"
// when it was not valid UTF-8.
func (r Row) DestinationKey() string {
	if r.DstBytes != nil {
		return string(r.DstBytes)
	}
	return r.DstKey
}

// file is one open report file.
type file struct {
	f   *os.File
	csv *csv.Writer // nil for JSONL
	// cols is how many columns the CSV file's header row has: fewer
	// than the report's when an earlier version began the file.
	cols int
}

// Writer appends results to a job's reports. It is safe for concurrent
// use.
type Writer struct {
	dir   string
	mu    sync.Mutex
	files map[string]*file // by file name
	now   func() time.Time
}

// Open creates dir if needed and opens the reports in it for appending,
// writing the CSV header rows of new files. A line left incomplete by a
// crash is cut off first, so the files stay parseable.
func Open(dir string) (*Writer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create reports folder: %w", err)
	}
	w := &Writer{dir: dir, files: map[string]*file{}, now: time.Now}
	for _, name := range Names {
		for _, ext := range []string{".csv", ".jsonl"} {
			f, err := openFile(filepath.Join(dir, name+ext))
			if err != nil {
				_ = w.Close()
				return nil, err
			}
			rf := &file{f: f}
			if ext == ".csv" {
				rf.csv = csv.NewWriter(f)
				rf.cols = len(headers[name])
				st, err := f.Stat()
				if err == nil && st.Size() == 0 {
					_ = rf.csv.Write(headers[name])
					rf.csv.Flush()
					err = rf.csv.Error()
				} else if err == nil {
					rf.cols = headerColumns(f, rf.cols)
				}
				if err != nil {
					_ = f.Close()
					_ = w.Close()
					return nil, fmt.Errorf("write report header: %w", err)
				}
			}
			w.files[name+ext] = rf
		}
	}
	return w, nil
}

// openFile opens path for appending, cutting a trailing incomplete line.
func openFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open report: %w", err)
	}
	if err := cutTornLine(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("repair report %s: %w", path, err)
	}
	return f, nil
}

// cutTornLine truncates f after its last line break when it does not end
// with one.
func cutTornLine(f *os.File) error {
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return err
	}
	end := st.Size()
	buf := make([]byte, 4096)
	for pos := end; pos > 0; {
		n := int64(len(buf))
		if pos < n {
			n = pos
		}
		pos -= n
		if _, err := f.ReadAt(buf[:n], pos); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			if keep := pos + int64(i) + 1; keep != end {
				return f.Truncate(keep)
			}
			return nil
		}
	}
	return f.Truncate(0)
}

// Add writes one result, stamped with the current time, to the report
// its code routes it to. A nil Writer writes nothing.
func (w *Writer) Add(r transfer.Result) error {
	if w == nil {
		return nil
	}
	return w.AddAt(r, w.now())
}

// AddAt writes one result, stamped with at.
func (w *Writer) AddAt(r transfer.Result, at time.Time) error {
	if w == nil {
		return nil
	}
	name := Route(r.Code)
	record, row := rows(name, r, at)
	line, err := json.Marshal(row)
	if err != nil {
		return fmt.Errorf("encode report row: %w", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.files == nil {
		return errors.New("report: writer closed")
	}
	cf := w.files[name+".csv"]
	c := cf.csv
	_ = c.Write(record[:min(len(record), cf.cols)])
	c.Flush()
	if err := c.Error(); err != nil {
		return fmt.Errorf("write %s.csv: %w", name, err)
	}
	if _, err := w.files[name+".jsonl"].f.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("write %s.jsonl: %w", name, err)
	}
	return nil
}

// rows renders a result as a CSV record and a JSONL row of report name.
func rows(name string, r transfer.Result, at time.Time) ([]string, Row) {
	key, dst := r.Object.Key, r.Object.Dst()
	when := at.Format(time.RFC3339)
	size := r.Size
	if size == 0 && r.Object.Size > 0 {
		size = r.Object.Size // a failure before the size was known
	}
	row := Row{Key: key, DstKey: dst, Time: when, Size: &size}
	if !utf8.ValidString(key) {
		row.Key, row.KeyBytes = "", []byte(key)
	}
	if !utf8.ValidString(dst) {
		row.DstKey, row.DstBytes = "", []byte(dst)
	}
	sz := strconv.FormatInt(size, 10)
	switch name {
	case Failed:
		row.Code, row.Message = string(r.Code), r.Detail
		return []string{EncodeKey(key), EncodeKey(dst), string(r.Code), oneLine(r.Detail), sz, when}, row
	case Skipped:
		row.DstKey, row.DstBytes, row.Size, row.Reason = "", nil, nil, r.Detail
		return []string{EncodeKey(key), oneLine(r.Detail), when}, row
	case Copied:
		if r.Checksums.HasCRC64 {
			row.CRC64 = strconv.FormatUint(r.Checksums.CRC64, 10)
		}
		if r.Checksums.HasCRC32C {
			row.CRC32C = base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, r.Checksums.CRC32C))
		}
		if len(r.Checksums.MD5) > 0 {
			row.MD5 = hex.EncodeToString(r.Checksums.MD5)
		}
		row.Check = r.Check
		return []string{EncodeKey(key), EncodeKey(dst), sz, row.CRC64, row.MD5, when, r.Check, row.CRC32C}, row
	}
	row.Check = r.Check
	return []string{EncodeKey(key), EncodeKey(dst), sz, when, r.Check}, row
}

var lineBreaks = strings.NewReplacer("\n", `\n`, "\r", `\r`)

func oneLine(s string) string { return lineBreaks.Replace(s) }

// EncodeKey renders a key for a CSV report: as is, or Go-quoted when it
// is not valid UTF-8, contains a line break, or starts with a double
// quote.
func EncodeKey(key string) string {
	if !utf8.ValidString(key) || strings.ContainsAny(key, "\r\n") || strings.HasPrefix(key, `"`) {
		return strconv.Quote(key)
	}
	return key
}

// DecodeKey reverses EncodeKey on a CSV field.
func DecodeKey(field string) (string, error) {
	if !strings.HasPrefix(field, `"`) {
		return field, nil
	}
	return strconv.Unquote(field)
}

// Close closes the reports; later Adds fail.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	var errs []error
	for _, f := range w.files {
		if f.csv != nil {
			f.csv.Flush()
			errs = append(errs, f.csv.Error())
		}
		errs = append(errs, f.f.Close())
	}
	w.files = nil
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close reports in %s: %w", w.dir, err)
	}
	return nil
}

// Summary counts the rows of each report in dir (from the JSONL files),
// by report name; missing reports count zero.
func Summary(dir string) (map[string]int64, error) {
	counts := make(map[string]int64, len(Names))
	for _, name := range Names {
		f, err := os.Open(filepath.Join(dir, name+".jsonl"))
		if errors.Is(err, os.ErrNotExist) {
			counts[name] = 0
			continue
		}
		if err != nil {
			return counts, fmt.Errorf("read report: %w", err)
		}
		var n lineCounter
		_, err = io.Copy(&n, f)
		_ = f.Close()
		if err != nil {
			return counts, fmt.Errorf("read report: %w", err)
		}
		counts[name] = int64(n)
	}
	return counts, nil
}

// lineCounter counts the line breaks written to it.
type lineCounter int64

func (c *lineCounter) Write(p []byte) (int, error) {
	*c += lineCounter(bytes.Count(p, []byte{'\n'}))
	return len(p), nil
}

// Marks returns the size of every report file in dir (0 for a missing
// one): the place to Rewind to, so rows written after it can be written
// again without being doubled.
func Marks(dir string) (map[string]int64, error) {
	marks := make(map[string]int64, 2*len(Names))
	for _, name := range Names {
		for _, ext := range []string{".csv", ".jsonl"} {
			st, err := os.Stat(filepath.Join(dir, name+ext))
			switch {
			case err == nil:
				marks[name+ext] = st.Size()
			case errors.Is(err, os.ErrNotExist):
				marks[name+ext] = 0
			default:
				return nil, fmt.Errorf("mark report %s: %w", name+ext, err)
			}
		}
	}
	return marks, nil
}

// Rewind cuts every report file in dir that grew past its mark back to
// the mark, dropping the rows written since Marks. Files with no mark
// are left as they are.
func Rewind(dir string, marks map[string]int64) error {
	for file, size := range marks {
		if filepath.Base(file) != file || size < 0 {
			return fmt.Errorf("rewind reports in %s: bad mark %q=%d", dir, file, size)
		}
		path := filepath.Join(dir, file)
		st, err := os.Stat(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err == nil && st.Size() > size {
			err = os.Truncate(path, size)
		}
		if err != nil {
			return fmt.Errorf("rewind report %s: %w", file, err)
		}
	}
	return nil
}

// headerColumns counts the columns of the header row f begins with, want
// when it cannot be read (the file's own rows then say what it holds).
func headerColumns(f *os.File, want int) int {
	first, err := csv.NewReader(io.NewSectionReader(f, 0, 64<<10)).Read()
	if err != nil || len(first) == 0 {
		return want
	}
	return min(len(first), want)
}
