package config

import (
	"fmt"
	"unicode/utf8"
)

// checkUTF8 reports every line of normalized text (see normalizeText)
// holding bytes that are not UTF-8 (a file saved in GBK or Latin-1, say)
// and blanks those lines in buf, so that no U+FFFD replacement character
// ever reaches a value: a garbled prefix or path is worse than an error.
// buf holds text's bytes and is changed in place.
func checkUTF8(name string, buf []byte) Diagnostics {
	if utf8.Valid(buf) {
		return nil
	}
	var diags Diagnostics
	line, start := 1, 0
	for i := 0; i <= len(buf); i++ {
		if i < len(buf) && buf[i] != '\n' {
			continue
		}
		if seg := buf[start:i]; !utf8.Valid(seg) {
			diags = append(diags, Diagnostic{File: name, Line: line, Msg: fmt.Sprintf(
				"byte %d of the line is not UTF-8 (the file was saved in another encoding, such as GBK or Latin-1): save the file as UTF-8, or write the character as \\uXXXX",
				firstInvalid(seg)+1)})
			blank(seg)
		}
		line, start = line+1, i+1
	}
	return diags
}

// firstInvalid is the offset of the first byte of b that does not start a
// valid UTF-8 sequence; len(b) when there is none.
func firstInvalid(b []byte) int {
	for i := 0; i < len(b); {
		r, w := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && w <= 1 {
			return i
		}
		i += w
	}
	return len(b)
}
