package config

import "strings"

// Reason says why the filter drops a file with the given relative path
// and size, naming the key that drops it ("minFileSize", "maxFileSize",
// "excludePatterns <pattern>", "includePatterns"), or "" when the file is
// copied: Reason(rel, size) == "" exactly when Match(rel, size).
func (f *PathFilter) Reason(rel string, size int64) string {
	switch {
	case size < f.minSize:
		return "minFileSize"
	case f.maxSize > 0 && size > f.maxSize:
		return "maxFileSize"
	}
	elems := strings.Split(strings.TrimPrefix(rel, "/"), "/")
	for _, p := range f.exclude {
		if matchElems(p, elems) {
			return "excludePatterns " + strings.Join(p, "/")
		}
	}
	if len(f.include) == 0 {
		return ""
	}
	for _, p := range f.include {
		if matchElems(p, elems) {
			return ""
		}
	}
	return "includePatterns"
}
