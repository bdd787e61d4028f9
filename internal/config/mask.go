package config

import "strings"

// MaskJobFile returns a job file with the values of its secret keys
// (secret keys, access keys, tokens) replaced by ****, for copies kept
// where operators read them. Line numbers stay those of the original.
func MaskJobFile(data []byte) []byte {
	return maskSecrets(data, jobRegistry(), "****")
}

// WorkerSysFile returns sys.properties as `console deploy` copies it to
// the workers: the SSH login secrets (workerPassword), which only the
// master uses, are emptied. Line numbers stay those of the original.
func WorkerSysFile(data []byte) []byte {
	return maskSecrets(data, sysRegistry(), "")
}

// maskSecrets replaces the values of reg's secret keys with mask.
func maskSecrets(data []byte, reg *registry, mask string) []byte {
	text := normalizeText(data)
	var b strings.Builder
	last := 0
	for _, e := range scanLogical(text) {
		k, ok := reg.lookup(e.key)
		if !ok || !(k.Secret || k.PartSecret) {
			continue
		}
		b.WriteString(text[last:e.start])
		entry := text[e.start:e.end]
		b.WriteString(e.key + "=" + mask)
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
