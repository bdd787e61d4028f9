package config

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/magiconair/properties"
)

// propFile is one .properties file after parsing: the values as the Java
// properties rules decode them, plus the line each key was set on.
type propFile struct {
	name   string
	keys   []string          // in order of first appearance
	values map[string]string // last value wins, as in Java
	lines  map[string]int    // line of the logical line whose value is used
	nlines int               // number of lines in the file
}

// logicalLine is one key=value entry found by scanLogical.
type logicalLine struct {
	key        string
	line       int // 1-based line of the first character of the key
	start, end int // byte range of the whole logical line
	errMsg     string
	lossy      bool // the value has a backslash that the syntax drops
}

// normalizeText prepares raw file bytes for both the scanner and the
// properties library: it drops a UTF-8 byte order mark, turns CRLF and lone
// CR line ends into LF (Java accepts all three; the library would otherwise
// split a continued line in a CRLF file) and makes sure the text ends with
// a line end (so a final backslash is a harmless continuation instead of a
// parse error). None of this changes line numbers.
func normalizeText(data []byte) string {
	data = bytes.TrimPrefix(data, []byte{0xEF, 0xBB, 0xBF})
	s := strings.ReplaceAll(string(data), "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	if s != "" && !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return s
}

// parseProperties decodes a .properties file. Logical lines the properties
// library would reject (a missing key, a malformed \uXXXX escape) are
// reported and blanked out so that the rest of the file is still read.
func parseProperties(name string, data []byte) (*propFile, Diagnostics) {
	buf := []byte(normalizeText(data))
	diags := checkUTF8(name, buf)
	text := string(buf)
	entries := scanLogical(text)
	pf := &propFile{
		name:   name,
		values: map[string]string{},
		lines:  map[string]int{},
		nlines: strings.Count(text, "\n"),
	}
	for _, e := range entries {
		if e.errMsg != "" {
			diags = append(diags, Diagnostic{File: name, Line: e.line, Key: e.key, Msg: e.errMsg})
			blank(buf[e.start:e.end])
			continue
		}
		diags = append(diags, pf.record(e)...)
	}
	loader := properties.Loader{Encoding: properties.UTF8, DisableExpansion: true}
	p, err := loader.LoadBytes(buf)
	if err != nil {
		// scanLogical is meant to catch everything the library rejects;
		// the fuzz tests check that. Do not quote the library's message:
		// it may contain part of a secret value.
		return pf, append(diags, Diagnostic{File: name, Msg: "cannot parse the file as Java properties"})
	}
	for _, k := range p.Keys() {
		v, _ := p.Get(k)
		pf.keys = append(pf.keys, k)
		pf.values[k] = strings.TrimRight(v, propWhitespace)
	}
	return pf, diags
}

// record notes the line of a well-formed entry and warns about repeated
// keys and lossy backslashes.
func (pf *propFile) record(e logicalLine) Diagnostics {
	var diags Diagnostics
	if prev, ok := pf.lines[e.key]; ok {
		diags = append(diags, Diagnostic{File: pf.name, Line: e.line, Key: e.key, Severity: Warning,
			Msg: fmt.Sprintf("key %q is also set on line %d; this later value is used (delete one of them)", e.key, prev)})
	}
	if e.lossy {
		diags = append(diags, Diagnostic{File: pf.name, Line: e.line, Key: e.key, Severity: Warning,
			Msg: fmt.Sprintf(`the value of %q contains a backslash that properties syntax removes (write / in paths, or \\ for a literal backslash)`, e.key)})
	}
	pf.lines[e.key] = e.line
	return diags
}

// blank replaces every byte except line feeds with a space.
func blank(b []byte) {
	for i, c := range b {
		if c != '\n' {
			b[i] = ' '
		}
	}
}

const (
	propWhitespace = " \t\f"
	propKeyEnd     = " \t\f\r\n:="
	eofRune        = -1
)

// scanner walks normalized properties text rune by rune, following the same
// rules as the lexer of github.com/magiconair/properties (which are Java's,
// except that a backslash before a line end inside a key is kept as part of
// the key rather than continuing the line).
type scanner struct {
	s     string
	pos   int
	width int
	nl    []int // offsets of every '\n', for line numbers
}

func (sc *scanner) next() rune {
	if sc.pos >= len(sc.s) {
		sc.width = 0
		return eofRune
	}
	r, w := utf8.DecodeRuneInString(sc.s[sc.pos:])
	sc.pos += w
	sc.width = w
	return r
}

func (sc *scanner) backup() { sc.pos -= sc.width }

func (sc *scanner) peek() rune {
	r := sc.next()
	sc.backup()
	return r
}

func (sc *scanner) skip(set string) {
	for r := sc.next(); r != eofRune && strings.ContainsRune(set, r); r = sc.next() {
	}
	sc.backup()
}

// lineOf returns the 1-based line of byte offset off.
func (sc *scanner) lineOf(off int) int {
	n, _ := slices.BinarySearch(sc.nl, off)
	return n + 1
}

// scanLogical splits normalized text into logical lines, skipping blank
// lines and comments, and decodes each key.
func scanLogical(text string) []logicalLine {
	sc := &scanner{s: text}
	for i := 0; i < len(text); i++ {
		if text[i] == '\n' {
			sc.nl = append(sc.nl, i)
		}
	}
	var out []logicalLine
	for {
		r := sc.next()
		switch {
		case r == eofRune:
			return out
		case r == '\n' || strings.ContainsRune(propWhitespace, r):
			continue
		case r == '#' || r == '!':
			for r != '\n' && r != eofRune {
				r = sc.next()
			}
			continue
		}
		sc.backup()
		out = append(out, sc.entry())
	}
}

// entry scans one logical line starting at the current position.
func (sc *scanner) entry() logicalLine {
	e := logicalLine{start: sc.pos, line: sc.lineOf(sc.pos)}
	key, errMsg := sc.key()
	e.key = key
	switch {
	case errMsg != "":
		e.errMsg = errMsg
	case key == "":
		e.errMsg = fmt.Sprintf("line starts with %q but has no key before it (remove the line or add the key)", sc.peek())
	default:
		sc.skip(propWhitespace)
		if r := sc.next(); r != ':' && r != '=' {
			sc.backup()
		}
		sc.skip(propWhitespace)
	}
	lossy, valErr := sc.value()
	if e.errMsg == "" && valErr != "" {
		e.errMsg = fmt.Sprintf("%s in the value of %q", valErr, key)
	}
	e.lossy = lossy
	e.end = sc.pos
	return e
}

// key reads a key up to its terminator, decoding escapes.
func (sc *scanner) key() (string, string) {
	var key []rune
	for {
		r := sc.next()
		switch {
		case r == '\\':
			esc, _, err := sc.escape()
			if err != "" {
				return string(key), err + " in a key"
			}
			key = append(key, esc)
		case r == eofRune:
			return string(key), ""
		case strings.ContainsRune(propKeyEnd, r):
			sc.backup()
			return string(key), ""
		default:
			key = append(key, r)
		}
	}
}

// value skips over a value up to the end of its logical line. It reports
// whether a backslash was silently dropped and any malformed escape.
func (sc *scanner) value() (lossy bool, errMsg string) {
	for {
		switch r := sc.next(); r {
		case eofRune, '\n':
			return lossy, errMsg
		case '\\':
			if sc.peek() == '\n' {
				sc.next()
				sc.skip(propWhitespace)
				continue
			}
			_, dropped, err := sc.escape()
			lossy = lossy || dropped
			if errMsg == "" {
				errMsg = err
			}
		}
	}
}

// escape decodes the escape sequence after a backslash. dropped is true
// when the backslash has no meaning and is simply removed ("\d" reads as
// "d"), which is how Windows paths get silently mangled.
func (sc *scanner) escape() (r rune, dropped bool, errMsg string) {
	switch c := sc.next(); c {
	case eofRune:
		return 0, false, "backslash at end of file"
	case 'u':
		return sc.unicode()
	case 'f':
		return '\f', false, ""
	case 'n':
		return '\n', false, ""
	case 'r':
		return '\r', false, ""
	case 't':
		return '\t', false, ""
	case ' ', ':', '=', '\\':
		return c, false, ""
	default:
		// Only letters and digits are flagged: "\#" or "\!" are common,
		// deliberate escapes.
		isAlnum := c < utf8.RuneSelf && (c >= '0' && c <= '9' || (c|0x20) >= 'a' && (c|0x20) <= 'z')
		return c, isAlnum, ""
	}
}

// unicode reads the four hex digits of a \uXXXX escape. On a bad digit it
// stops before that character so the caller can find the end of the line.
func (sc *scanner) unicode() (rune, bool, string) {
	var r rune
	for range 4 {
		d := hexDigit(sc.peek())
		if d < 0 {
			return 0, false, `malformed \uXXXX escape (write four hex digits, or / instead of \ in paths)`
		}
		sc.next()
		r = r<<4 | rune(d)
	}
	return r, false, ""
}

func hexDigit(c rune) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
