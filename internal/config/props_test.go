package config

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/magiconair/properties"
)

func TestPropertiesSyntax(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  map[string]string
		lines map[string]int
		diags int
	}{
		{"hash and bang comments", "# c\n! c\na=1\n  # indented comment\nb=2\n",
			map[string]string{"a": "1", "b": "2"}, map[string]int{"a": 3, "b": 5}, 0},
		{"continuation", "a=one \\\n    two \\\n  three\nb=2\n",
			map[string]string{"a": "one two three", "b": "2"}, map[string]int{"a": 1, "b": 4}, 0},
		{"continuation line starting with #", "a=x\\\n#y\nb=2\n",
			map[string]string{"a": "x#y", "b": "2"}, map[string]int{"a": 1, "b": 3}, 0},
		{"unicode escape", "a=\\u4e2d\\u6587\n", map[string]string{"a": "中文"}, map[string]int{"a": 1}, 0},
		{"colon separator", "a:1\nb : 2\n", map[string]string{"a": "1", "b": "2"}, nil, 0},
		{"whitespace separator", "a 1\nb\t\t2\n", map[string]string{"a": "1", "b": "2"}, nil, 0},
		{"equals inside value", "a=x=y:z\n", map[string]string{"a": "x=y:z"}, nil, 0},
		{"expansion kept literal", "a=${b}\nb=1\n", map[string]string{"a": "${b}", "b": "1"}, nil, 0},
		{"trailing whitespace dropped", "a=1  \t\nb=two words \n", map[string]string{"a": "1", "b": "two words"}, nil, 0},
		{"CRLF", "a=1\r\nb=x\\\r\n  y\r\nc=3", map[string]string{"a": "1", "b": "xy", "c": "3"}, map[string]int{"a": 1, "b": 2, "c": 4}, 0},
		{"lone CR", "a=1\rb=2\r", map[string]string{"a": "1", "b": "2"}, map[string]int{"b": 2}, 0},
		{"escaped key characters", "my\\ key\\:x=1\nworkerMaxThroughput(KB/s)=5\n",
			map[string]string{"my key:x": "1", "workerMaxThroughput(KB/s)": "5"}, nil, 0},
		{"key without value", "a\nb=\n", map[string]string{"a": "", "b": ""}, nil, 0},
		{"byte order mark", "\xef\xbb\xbfa=1\n", map[string]string{"a": "1"}, map[string]int{"a": 1}, 0},
		{"backslash at end of file", "a=x\\", map[string]string{"a": "x"}, nil, 0},
		{"duplicate key: last wins", "a=1\na=2\n", map[string]string{"a": "2"}, map[string]int{"a": 2}, 1},
		{"missing key", "a=1\n=2\nb=3\n", map[string]string{"a": "1", "b": "3"}, nil, 1},
		{"bad unicode keeps the rest", "a=c:\\users\nb=3\n", map[string]string{"b": "3"}, map[string]int{"b": 2}, 1},
		{"lossy backslash", "a=c:\\data\n", map[string]string{"a": "c:data"}, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pf, diags := parseProperties("f", []byte(tt.in))
			if !maps.Equal(pf.values, tt.want) {
				t.Errorf("values = %q, want %q", pf.values, tt.want)
			}
			for k, line := range tt.lines {
				if pf.lines[k] != line {
					t.Errorf("line of %q = %d, want %d", k, pf.lines[k], line)
				}
			}
			if len(diags) != tt.diags {
				t.Errorf("diagnostics = %v, want %d", diags, tt.diags)
			}
			checkAgreement(t, []byte(tt.in))
		})
	}
}

// checkAgreement asserts that scanLogical finds exactly the keys the
// properties library finds, whenever it reports no syntax error.
func checkAgreement(t testing.TB, data []byte) {
	t.Helper()
	text := normalizeText(data)
	entries := scanLogical(text)
	scanned := map[string]bool{}
	for _, e := range entries {
		if e.errMsg != "" {
			return // the library would fail (and leak its lexer goroutine)
		}
		if e.line < 1 || e.line > strings.Count(text, "\n")+1 {
			t.Fatalf("entry %q has line %d", e.key, e.line)
		}
		scanned[e.key] = true
	}
	l := properties.Loader{Encoding: properties.UTF8, DisableExpansion: true}
	p, err := l.LoadBytes([]byte(text))
	if err != nil {
		t.Fatalf("library rejects input the scanner accepts: %v", err)
	}
	lib := p.Keys()
	got := slices.Sorted(maps.Keys(scanned))
	slices.Sort(lib)
	if !slices.Equal(got, lib) {
		t.Fatalf("scanner keys %q, library keys %q", got, lib)
	}
}
