package record

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ossimport/ossimport/internal/transfer"
)

// AuditKey renders a key as audit.log writes it: as is, with line breaks
// written \n and \r; Go-quoted when it is not valid UTF-8, so the log
// stays text that grep and editors read (a name in a legacy encoding,
// such as GBK, becomes "bad\xffname.txt").
func AuditKey(key string) string {
	if !utf8.ValidString(key) {
		return strconv.Quote(key)
	}
	return lineBreaks.Replace(key)
}

// auditLine renders one audit.log line: the key as AuditKey renders it,
// line breaks and bytes that are not UTF-8 in the detail escaped.
func auditLine(r transfer.Result, at string) string {
	line := at + " " + string(r.Code) + " " + AuditKey(r.Object.Key) + " Detail:" + escapeText(r.Detail)
	if r.Check != "" {
		line += " Check:" + r.Check
	}
	return line
}

// escapeText keeps s on one line of valid UTF-8: line breaks become \n
// and \r, and each byte that is not UTF-8 becomes \xNN.
func escapeText(s string) string {
	s = lineBreaks.Replace(s)
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteString(`\x` + strconv.FormatUint(uint64(s[i])|0x100, 16)[1:])
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// Permanent reports whether a failure would fail the same way on every
// retry: the name breaks the destination's rules (InvalidName), so only
// renaming the source object helps. A retry leaves such objects out.
func Permanent(code transfer.Code) bool {
	return code == transfer.InvalidName
}

// Failures counts a failed task's objects a retry would copy again
// (failed or never finished) and lists those that failed permanently.
func Failures(dir string) (retryable int, permanent []string, err error) {
	t, err := ReadTask(dir)
	if err != nil {
		return 0, nil, err
	}
	p, err := ReadFinished(dir)
	if err != nil {
		return 0, nil, err
	}
	for _, o := range t.Objects {
		code, ok := p.Finished[o.Key]
		switch {
		case ok && code.OK():
		case ok && Permanent(code):
			permanent = append(permanent, o.Key)
		default:
			retryable++
		}
	}
	return retryable, permanent, nil
}
