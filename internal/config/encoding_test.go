package config

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestNonUTF8Config: a job.cfg or sys.properties saved in GBK or Latin-1
// is an error naming the file and line with the fix, and the garbled value
// never reaches the settings (no U+FFFD); a BOM and CRLF line ends are
// fine.
func TestNonUTF8Config(t *testing.T) {
	gbk := []byte("srcType=local\r\nsrcPrefix=/data/\xd6\xd0\xce\xc4/\r\ndestType=local\r\n") // 中文 in GBK
	j, diags := ParseJob("job.cfg", gbk)
	errs := diags.Errors()
	if len(errs) == 0 {
		t.Fatalf("GBK job.cfg parsed without an error: %v", diags)
	}
	found := false
	for _, d := range errs {
		if d.File == "job.cfg" && d.Line == 2 && strings.Contains(d.Msg, "save the file as UTF-8") && strings.Contains(d.Msg, `\uXXXX`) {
			found = true
		}
		if strings.ContainsRune(d.String(), utf8.RuneError) {
			t.Errorf("diagnostic quotes a replacement character: %s", d)
		}
	}
	if !found {
		t.Fatalf("no job.cfg:2 error with the fix among %v", errs)
	}
	if strings.ContainsRune(j.SrcPrefix, utf8.RuneError) {
		t.Fatalf("srcPrefix holds U+FFFD: %q", j.SrcPrefix)
	}

	latin1 := []byte("# caf\xe9\nworkerTaskThreadNum=4\n")
	_, diags = ParseSys("sys.properties", latin1)
	if errs := diags.Errors(); len(errs) != 1 || errs[0].Line != 1 || errs[0].File != "sys.properties" {
		t.Fatalf("Latin-1 comment: want one error on sys.properties:1, got %v", diags)
	}

	ok := []byte("\xef\xbb\xbfsrcType=local\r\nsrcPrefix=/data/\xe4\xb8\xad\xe6\x96\x87/\r\n")
	j, diags = ParseJob("job.cfg", ok)
	for _, d := range diags.Errors() {
		if strings.Contains(d.Msg, "UTF-8") {
			t.Fatalf("UTF-8 with BOM and CRLF reported: %s", d)
		}
	}
	if j.SrcPrefix != "/data/中文/" {
		t.Fatalf("srcPrefix = %q", j.SrcPrefix)
	}
}

// FuzzConfigEncoding feeds config bytes in mixed encodings, with and
// without a BOM, with CRLF or CR line ends: invalid UTF-8 is always an
// error on a line of the file, and no value ever holds a U+FFFD the file
// did not spell.
func FuzzConfigEncoding(f *testing.F) {
	f.Add([]byte("srcPrefix=/data/\xd6\xd0\xce\xc4/\r\n"), true, 1)
	f.Add([]byte("a=caf\xe9\nb=\\\n\xff\n"), false, 2)
	f.Add([]byte("a=\xe4\xb8\xad\\u00e9\r\nb=2"), true, 0)
	f.Add([]byte("a=\xef\xbf\xbd\rb=\xc3"), false, 1)
	f.Fuzz(func(t *testing.T, data []byte, bom bool, ends int) {
		switch ends % 3 {
		case 1:
			data = bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n"))
		case 2:
			data = bytes.ReplaceAll(data, []byte("\n"), []byte("\r"))
		}
		if bom {
			data = append([]byte{0xEF, 0xBB, 0xBF}, data...)
		}
		pf, diags := parseProperties("f", data)
		checkLines(t, data, diags)
		body := bytes.TrimPrefix(data, []byte{0xEF, 0xBB, 0xBF})
		invalid := !utf8.Valid(body)
		reported := false
		for _, d := range diags {
			if d.Severity == Error && strings.Contains(d.Msg, "save the file as UTF-8") {
				reported = true
			}
		}
		if invalid != reported {
			t.Fatalf("invalid UTF-8 %v, reported %v: %q %v", invalid, reported, data, diags)
		}
		spelled := bytes.Contains(body, []byte("\xef\xbf\xbd")) || bytes.Contains(bytes.ToLower(body), []byte("fffd"))
		for k, v := range pf.values {
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				t.Fatalf("invalid UTF-8 in %q=%q", k, v)
			}
			if !spelled && (strings.ContainsRune(k, utf8.RuneError) || strings.ContainsRune(v, utf8.RuneError)) {
				t.Fatalf("U+FFFD in %q=%q from %q", k, v, data)
			}
		}
	})
}
