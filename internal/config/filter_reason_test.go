package config

import "testing"

// TestFilterReason: Reason names the key that drops a file, and is empty
// exactly when Match keeps it.
func TestFilterReason(t *testing.T) {
	j := &Job{IncludePatterns: []string{"*.jpg", "docs/**/*.md"}, ExcludePatterns: []string{"*.tmp.jpg", "**/cache/*"},
		MinFileSize: 10, MaxFileSize: 1000}
	f, err := NewPathFilter(j)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		rel  string
		size int64
		want string
	}{
		{"a/b.jpg", 100, ""},
		{"docs/x/y/readme.md", 100, ""},
		{"a/b.jpg", 5, "minFileSize"},
		{"a/b.jpg", 5000, "maxFileSize"},
		{"a/b.tmp.jpg", 100, "excludePatterns *.tmp.jpg"},
		{"x/cache/b.jpg", 100, "excludePatterns **/cache/*"},
		{"a/b.png", 100, "includePatterns"},
	}
	for _, tc := range tests {
		got := f.Reason(tc.rel, tc.size)
		if got != tc.want || (got == "") != f.Match(tc.rel, tc.size) {
			t.Errorf("Reason(%q, %d) = %q, want %q (Match %v)", tc.rel, tc.size, got, tc.want, f.Match(tc.rel, tc.size))
		}
	}
}
