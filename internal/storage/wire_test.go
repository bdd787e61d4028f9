package storage

import "testing"

func TestRangeHeader(t *testing.T) {
	cases := []struct {
		offset, length int64
		want           string
	}{
		{0, -1, ""},
		{0, 1, "bytes=0-0"},
		{0, 100, "bytes=0-99"},
		{10, 5, "bytes=10-14"},
		{10, -1, "bytes=10-"},
	}
	for _, c := range cases {
		if got := RangeHeader(c.offset, c.length); got != c.want {
			t.Errorf("RangeHeader(%d, %d) = %q, want %q", c.offset, c.length, got, c.want)
		}
	}
}

func TestParseContentRange(t *testing.T) {
	cases := []struct {
		in                 string
		first, last, total int64
	}{
		{"bytes 0-99/1000", 0, 99, 1000},
		{" bytes 10-14/15 ", 10, 14, 15},
		{"bytes 0-99/*", 0, 99, -1},
		{"bytes */0", -1, -1, 0},
		{"bytes */1000", -1, -1, 1000},
		{"bytes 9-5/10", -1, -1, 10},
		{"bytes 0-99", -1, -1, -1},
		{"items 0-99/1000", -1, -1, -1},
		{"", -1, -1, -1},
	}
	for _, c := range cases {
		first, last, total := ParseContentRange(c.in)
		if first != c.first || last != c.last || total != c.total {
			t.Errorf("ParseContentRange(%q) = %d, %d, %d, want %d, %d, %d", c.in, first, last, total, c.first, c.last, c.total)
		}
	}
}

func TestEscapePath(t *testing.T) {
	cases := map[string]string{
		"":                     "",
		"dir/a b+c%d?é~_.-":    "dir/a%20b%2Bc%25d%3F%C3%A9~_.-",
		"AZaz09/#&=;:@$,'()*!": "AZaz09/%23%26%3D%3B%3A%40%24%2C%27%28%29%2A%21",
		"nl\n\x00\xff":         "nl%0A%00%FF",
	}
	for in, want := range cases {
		if got := EscapePath(in); got != want {
			t.Errorf("EscapePath(%q) = %q, want %q", in, got, want)
		}
	}
}
