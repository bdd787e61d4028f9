package config

import (
	"fmt"
	"path"
	"strings"
)

// PathFilter decides which source files a job copies, from the
// includePatterns, excludePatterns, minFileSize and maxFileSize keys.
//
// Patterns use path.Match syntax and are matched against the file's path
// relative to srcPrefix, with '/' separators:
//   - a pattern without '/' is matched against the file name alone, so
//     "*.tmp" skips temporary files in every directory;
//   - otherwise the whole relative path must match, and a path element
//     that is exactly "**" matches zero or more directories
//     ("logs/**/*.gz", "**/cache/*").
type PathFilter struct {
	include, exclude [][]string // patterns split into path elements
	minSize, maxSize int64
}

// CheckPattern reports whether pattern is a valid filter pattern.
func CheckPattern(pattern string) error {
	if pattern == "" {
		return fmt.Errorf("empty pattern")
	}
	for _, el := range strings.Split(pattern, "/") {
		if el == "**" {
			continue
		}
		if _, err := path.Match(el, ""); err != nil {
			return err
		}
	}
	return nil
}

// NewPathFilter builds the filter of j. Invalid patterns are reported by
// Validate; here they are an error too.
func NewPathFilter(j *Job) (*PathFilter, error) {
	f := &PathFilter{minSize: j.MinFileSize, maxSize: j.MaxFileSize}
	for _, list := range []struct {
		pats []string
		dst  *[][]string
	}{{j.IncludePatterns, &f.include}, {j.ExcludePatterns, &f.exclude}} {
		for _, p := range list.pats {
			if err := CheckPattern(p); err != nil {
				return nil, fmt.Errorf("check pattern %q: %w", p, err)
			}
			*list.dst = append(*list.dst, strings.Split(p, "/"))
		}
	}
	return f, nil
}

// Match reports whether a file with the given relative path and size is to
// be copied.
func (f *PathFilter) Match(rel string, size int64) bool {
	if size < f.minSize || (f.maxSize > 0 && size > f.maxSize) {
		return false
	}
	elems := strings.Split(strings.TrimPrefix(rel, "/"), "/")
	for _, p := range f.exclude {
		if matchElems(p, elems) {
			return false
		}
	}
	if len(f.include) == 0 {
		return true
	}
	for _, p := range f.include {
		if matchElems(p, elems) {
			return true
		}
	}
	return false
}

// matchElems matches a split pattern against split path elements.
func matchElems(pat, elems []string) bool {
	if len(pat) == 1 && pat[0] != "**" {
		ok, _ := path.Match(pat[0], elems[len(elems)-1])
		return ok
	}
	return matchFrom(pat, elems)
}

func matchFrom(pat, elems []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			// Collapse repeated "**" so the search below stays linear in
			// the number of path elements per pattern element.
			for len(pat) > 1 && pat[1] == "**" {
				pat = pat[1:]
			}
			for i := 0; i <= len(elems); i++ {
				if matchFrom(pat[1:], elems[i:]) {
					return true
				}
			}
			return false
		}
		if len(elems) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], elems[0]); !ok {
			return false
		}
		pat, elems = pat[1:], elems[1:]
	}
	return len(elems) == 0
}
