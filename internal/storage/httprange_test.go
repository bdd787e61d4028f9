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
