package config

import "strings"

// MaskJobFile returns a job file with the values of its secret keys
// (secret keys, access keys, tokens) replaced by ****, for copies kept
// where operators read them. Line numbers stay those of the original.
func MaskJobFile(data []byte) []byte {
	text := normalizeText(data)
	var b strings.Builder
	last := 0
	for _, e := range scanLogical(text) {
		k, ok := jobRegistry().lookup(e.key)
		if !ok || !(k.Secret || k.PartSecret) {
			continue
		}
		b.WriteString(text[last:e.start])
		entry := text[e.start:e.end]
		b.WriteString(e.key + "=****")
		// Keep the line ends of a value continued over several lines.
		b.WriteString(strings.Repeat("\n", strings.Count(strings.TrimRight(entry, "\n"), "\n")))
		last = e.end
		if strings.HasSuffix(entry, "\n") {
			b.WriteString("\n")
		}
	}
	b.WriteString(text[last:])
	return []byte(b.String())
}
