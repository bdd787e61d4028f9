package record

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// AuditEntry is one line of a task's audit.log:
// "<yyyy-MM-dd> <HH:mm:ss> <Code> <key> Detail:<message>[ Check:<check>]".
type AuditEntry struct {
	// Line is the line as written.
	Line string
	// Code is the result code (third field); "" when the line has fewer
	// than three fields.
	Code transfer.Code
	// Rest is what follows the code: "<key> Detail:<message>...".
	Rest string

	fields int
}

// ParseAuditLine splits an audit.log line into its fields. It never
// fails: a malformed line is an entry that is no failure and no cause.
func ParseAuditLine(line string) AuditEntry {
	f := strings.SplitN(line, " ", 4)
	e := AuditEntry{Line: line, fields: len(f)}
	if len(f) >= 3 {
		e.Code = transfer.Code(f[2])
	}
	if len(f) == 4 {
		e.Rest = f[3]
	}
	return e
}

// Failed reports whether the entry records a failure (a code that is
// not OK).
func (e AuditEntry) Failed() bool {
	return e.fields >= 3 && !e.Code.OK()
}

// Cause returns a failure's line without its time ("<Code> <key>
// Detail:<message>"); false for a success or a line without a detail.
func (e AuditEntry) Cause() (string, bool) {
	if e.fields < 4 || !e.Failed() || !strings.Contains(e.Rest, " Detail:") {
		return "", false
	}
	return string(e.Code) + " " + e.Rest, true
}

// ScanAudit calls fn with every non-empty line of dir's audit.log, oldest
// first. With tail > 0 it reads only the file's last tail bytes (its end
// holds the latest attempt), dropping the first, partial line when the
// file is longer. A missing audit.log has no lines. Lines longer than
// 1 MiB end the scan with an error.
func ScanAudit(dir string, tail int64, fn func(AuditEntry)) error {
	f, err := os.Open(filepath.Join(dir, workdir.AuditFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", workdir.AuditFile, err)
	}
	defer f.Close()
	cut := false
	if tail > 0 {
		info, err := f.Stat()
		if err != nil {
			return fmt.Errorf("read %s: %w", workdir.AuditFile, err)
		}
		if info.Size() > tail {
			if _, err := f.Seek(info.Size()-tail, io.SeekStart); err != nil {
				return fmt.Errorf("read %s: %w", workdir.AuditFile, err)
			}
			cut = true
		}
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if cut {
			cut = false
			continue
		}
		if line := sc.Text(); line != "" {
			fn(ParseAuditLine(line))
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", workdir.AuditFile, err)
	}
	return nil
}
