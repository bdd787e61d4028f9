package httplist

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/ossimport/ossimport/internal/storage"
)

// ErrListFormat means the list file has lines the store cannot use. The
// error wrapping it names the file, the bad lines and the fix.
var ErrListFormat = errors.New("unknown http list file format")

// maxReported is how many bad lines one error names.
const maxReported = 20

// columns are the 0-based prefix and path columns.
type columns struct{ prefix, path int }

// entry is one usable line of the list.
type entry struct {
	prefix  string // the URL prefix column
	rawPath string // the relative path column as written
	key     string // rawPath %-decoded
}

func (e entry) url() string { return e.prefix + e.rawPath }

// parse reads one line (without its '\n'). It returns skip for blank and
// comment lines, and a description of the problem with the fix for lines
// it cannot use.
func (c columns) parse(text string) (e entry, skip bool, problem string) {
	if strings.ContainsRune(text, '\r') {
		return entry{}, false, "the line ends with a carriage return (Windows CRLF or old Mac CR line endings): convert the file with dos2unix (or mac2unix)"
	}
	fields := strings.FieldsFunc(text, isColumnSpace)
	if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
		return entry{}, true, ""
	}
	if need := max(c.prefix, c.path) + 1; len(fields) < need {
		return entry{}, false, fmt.Sprintf("the line has %d column(s) but needs %d (URL prefix in column %d, relative path in column %d): add the missing column or fix httpPrefixColumn/relativePathColumn",
			len(fields), need, c.prefix+1, c.path+1)
	}
	e = entry{prefix: fields[c.prefix], rawPath: fields[c.path]}
	if lower := strings.ToLower(e.prefix); !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
		return entry{}, false, fmt.Sprintf("column %d %q is not an http:// or https:// URL prefix: check httpPrefixColumn", c.prefix+1, e.prefix)
	}
	key, err := url.PathUnescape(e.rawPath)
	if err != nil {
		return entry{}, false, fmt.Sprintf("column %d %q is not a valid %%-encoded path (write a literal %%%% as %%%%25): %v", c.path+1, e.rawPath, err)
	}
	e.key = key
	return e, false, ""
}

// isColumnSpace separates columns: ASCII blanks only, so a name with a
// no-break space stays one column.
func isColumnSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\v' || r == '\f' }

// line is one line of the file and where it is.
type line struct {
	text       string // without the '\n'
	start, end int64  // end is where the next line starts
}

// fileState identifies one version of the list file.
type fileState struct {
	size  int64
	mtime time.Time
}

// state returns the list file's current version.
func (l *listFile) state() (fileState, error) {
	fi, err := os.Stat(l.path)
	if err != nil {
		return fileState{}, l.fileErr(err)
	}
	if fi.IsDir() {
		return fileState{}, fmt.Errorf("read url list %s: it is a directory: set httpListFilePath to the list file", l.path)
	}
	return fileState{size: fi.Size(), mtime: fi.ModTime()}, nil
}

// fileErr maps a file system error on the list file.
func (l *listFile) fileErr(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("read url list %s: %w: the file does not exist (check httpListFilePath): %w", l.path, storage.ErrBucketNotExist, err)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("read url list %s: %w: %w", l.path, storage.ErrAccessDenied, err)
	}
	return fmt.Errorf("read url list %s: %w", l.path, err)
}

// readLines calls fn for each line starting in [from, to), in order, until
// fn returns false. from must be 0 or just after a '\n'. An unterminated
// last line counts as a line.
func (l *listFile) readLines(ctx context.Context, from, to int64, fn func(line) (bool, error)) error {
	f, err := os.Open(l.path)
	if err != nil {
		return l.fileErr(err)
	}
	defer f.Close()
	if err := checkLineStart(f, from); err != nil {
		return fmt.Errorf("read url list %s: %w", l.path, err)
	}
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return l.fileErr(err)
	}
	r := bufio.NewReaderSize(f, 64<<10)
	for pos, n := from, 0; pos < to; n++ {
		if n%1024 == 0 && ctx.Err() != nil {
			return fmt.Errorf("read url list %s: %w", l.path, ctx.Err())
		}
		text, err := r.ReadString('\n')
		if err != nil && err != io.EOF {
			return l.fileErr(err)
		}
		if text == "" {
			return nil // the file shrank under us: end here
		}
		ln := line{text: strings.TrimSuffix(text, "\n"), start: pos, end: pos + int64(len(text))}
		pos = ln.end
		more, err := fn(ln)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// checkLineStart reports an error unless offset starts a line.
func checkLineStart(f *os.File, offset int64) error {
	if offset == 0 {
		return nil
	}
	var b [1]byte
	if _, err := f.ReadAt(b[:], offset-1); err != nil || b[0] != '\n' {
		return fmt.Errorf("offset %d is not the start of a line (the token is from another version of the file?)", offset)
	}
	return nil
}

// validation is the outcome of checking every line of one file version.
type validation struct {
	state fileState
	err   error // wraps ErrListFormat; nil when every line is usable
}

// validate checks every line of the file unless this version was checked
// already, and returns the version and the format error, if any.
func (l *listFile) validate(ctx context.Context) (fileState, error) {
	st, err := l.state()
	if err != nil {
		return st, err
	}
	l.checkMu.Lock()
	defer l.checkMu.Unlock()
	if l.checked != nil && l.checked.state == st {
		return st, l.checked.err
	}
	var bad []string
	nbad, lineNo := 0, 0
	err = l.readLines(ctx, 0, st.size, func(ln line) (bool, error) {
		lineNo++
		if _, _, problem := l.cols.parse(ln.text); problem != "" {
			nbad++
			if len(bad) < maxReported {
				bad = append(bad, fmt.Sprintf("%s:%d: %s", l.path, lineNo, problem))
			}
		}
		return true, nil
	})
	if err != nil {
		return st, err // not remembered: it may be a cancellation
	}
	v := &validation{state: st}
	if nbad > 0 {
		more := ""
		if nbad > len(bad) {
			more = fmt.Sprintf("\n... and %d more", nbad-len(bad))
		}
		v.err = fmt.Errorf("read url list %s: %w: %d bad line(s) of %d:\n%s%s",
			l.path, ErrListFormat, nbad, lineNo, strings.Join(bad, "\n"), more)
	}
	l.checked = v
	return st, v.err
}

// keyIndex maps keys to their line for one version of the file.
type keyIndex struct {
	state   fileState
	entries map[string]indexed
}

// indexed is an entry without its key (the map key). Equal prefixes share
// one string, as does rawPath with the key when no %-escape is used.
type indexed struct{ prefix, rawPath string }

// lookup returns the entry of key, building the index on first use and
// again whenever the file has changed.
func (l *listFile) lookup(ctx context.Context, key string) (entry, error) {
	st, err := l.state()
	if err != nil {
		return entry{}, err
	}
	l.indexMu.Lock()
	defer l.indexMu.Unlock()
	if l.index == nil || l.index.state != st {
		idx, err := l.buildIndex(ctx, st)
		if err != nil {
			return entry{}, err
		}
		l.index = idx
	}
	e, ok := l.index.entries[key]
	if !ok {
		return entry{}, fmt.Errorf("%w: the key is not in url list %s", storage.ErrNotExist, l.path)
	}
	return entry{prefix: e.prefix, rawPath: e.rawPath, key: key}, nil
}

// buildIndex reads the whole file once. Bad lines are left out: List
// reports them.
func (l *listFile) buildIndex(ctx context.Context, st fileState) (*keyIndex, error) {
	idx := &keyIndex{state: st, entries: map[string]indexed{}}
	prefixes := map[string]string{}
	err := l.readLines(ctx, 0, st.size, func(ln line) (bool, error) {
		e, skip, problem := l.cols.parse(ln.text)
		if skip || problem != "" {
			return true, nil
		}
		if _, dup := idx.entries[e.key]; dup {
			return true, nil
		}
		// Clone so the map does not keep whole lines alive.
		p, ok := prefixes[e.prefix]
		if !ok {
			p = strings.Clone(e.prefix)
			prefixes[p] = p
		}
		key, raw := strings.Clone(e.key), ""
		if e.rawPath == e.key {
			raw = key
		} else {
			raw = strings.Clone(e.rawPath)
		}
		idx.entries[key] = indexed{prefix: p, rawPath: raw}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return idx, nil
}
