package config

import (
	"bytes"
	"fmt"
	"strings"
)

const syntaxHelp = `Syntax: Java properties, as read by Alibaba's ossimport. One key=value per
line ("key: value" and "key value" work too). Lines starting with # or ! are
comments. A line ending in \ continues on the next line. A backslash starts
an escape (\t, \uXXXX, \\), so write paths with / even on Windows
(c:/data/src/). Values are used as written, except that trailing spaces are
dropped and ${...} is not expanded.

Every key may be left out: it then takes the default shown above it. Sizes
accept k, m and g suffixes (powers of 1024), e.g. 500k, 50m, 5g.
Run "ossimport check" to see problems and the effective values.`

// jobTemplateValues are the values the job templates ship with where they
// differ from the defaults: placeholders that pass validation.
var jobTemplateValues = map[bool]map[string]string{
	true: { // conf/local_job.cfg
		"jobName":    "local_test",
		"srcPrefix":  "/tmp/ossimport-demo/src/",
		"destDomain": "http://oss-cn-hangzhou.aliyuncs.com",
		"destBucket": "examplebucket",
	},
	false: { // conf/job.cfg
		"jobName":    "job_test",
		"srcPrefix":  "/data/source/",
		"destDomain": "http://oss-cn-hangzhou-internal.aliyuncs.com",
		"destBucket": "examplebucket",
	},
}

// JobTemplate returns the commented job file shipped as conf/local_job.cfg
// (standalone) or conf/job.cfg (distributed).
func JobTemplate(standalone bool) []byte {
	title := "ossimport job file for distributed mode (conf/job.cfg).\nSubmit it with: ossimport submit conf/job.cfg"
	if standalone {
		title = "ossimport job file for standalone mode (conf/local_job.cfg).\nThe demo copies /tmp/ossimport-demo/src/ to the bucket examplebucket:\nreplace srcPrefix, destDomain, destBucket and the keys before a real run."
	}
	return renderTemplate(title, jobKeys, jobTemplateValues[standalone])
}

// SysTemplate returns the commented conf/sys.properties shipped with the
// package.
func SysTemplate() []byte {
	title := "ossimport system settings (conf/sys.properties).\nChanges take effect when the service is restarted; in distributed mode\nevery machine needs the same file."
	return renderTemplate(title, sysKeys, nil)
}

func renderTemplate(title string, keys []Key, values map[string]string) []byte {
	var b bytes.Buffer
	writeComment(&b, title+"\n\n"+syntaxHelp)
	section, inExt := "", false
	for _, k := range keys {
		if k.Section != section {
			section = k.Section
			if strings.HasPrefix(section, "Extensions") && !inExt {
				inExt = true
				b.WriteString("\n")
				writeComment(&b, strings.Repeat("#", 70)+"\nEXTENSIONS: the keys below exist only in this implementation.\nAlibaba's ossimport does not know them; the defaults keep its behaviour.\n"+strings.Repeat("#", 70))
			}
			fmt.Fprintf(&b, "\n# ==== %s ====\n", section)
		}
		b.WriteString("\n")
		writeComment(&b, k.Doc+"\n"+defaultText(k))
		v, ok := values[k.Name]
		if !ok {
			v = k.Default
		}
		fmt.Fprintf(&b, "%s=%s\n", escapeKey(k.Name), v)
	}
	return b.Bytes()
}

func defaultText(k Key) string {
	if k.Default == "" {
		return "Default: empty."
	}
	return "Default: " + k.Default + "."
}

// escapeKey escapes the characters that would end a key early.
func escapeKey(name string) string {
	return strings.NewReplacer(" ", `\ `, ":", `\:`, "=", `\=`).Replace(name)
}

// writeComment writes text as "# " lines wrapped at 78 columns.
func writeComment(b *bytes.Buffer, text string) {
	for para := range strings.SplitSeq(text, "\n") {
		line := "#"
		for w := range strings.FieldsSeq(para) {
			if len(line)+1+len(w) > 78 && line != "#" {
				b.WriteString(line + "\n")
				line = "#"
			}
			line += " " + w
		}
		b.WriteString(line + "\n")
	}
}

// ReferenceMarkdown returns docs/configuration.md, generated from the key
// tables.
func ReferenceMarkdown() []byte {
	var b bytes.Buffer
	b.WriteString(mdIntro)
	b.WriteString("\n## Job file (job.cfg, local_job.cfg)\n\n")
	writeKeyTable(&b, jobKeys)
	b.WriteString("\n## System settings (sys.properties)\n\n")
	writeKeyTable(&b, sysKeys)
	b.WriteString(mdOutro)
	return b.Bytes()
}

func writeKeyTable(b *bytes.Buffer, keys []Key) {
	b.WriteString("| Key | Default | Type | Applies to | Description |\n|---|---|---|---|---|\n")
	for _, k := range keys {
		name := "`" + k.Name + "`"
		if k.Extension {
			name += " (ext)"
		}
		for _, a := range k.Aliases {
			name += "<br>alias `" + a.Name + "`"
		}
		def := "empty"
		if k.Default != "" {
			def = "`" + k.Default + "`"
		}
		kind := k.Kind.String()
		if k.Kind == KindEnum {
			kind = strings.Join(k.Enum, " \\| ")
		}
		if k.Secret || k.PartSecret {
			kind += ", secret"
		}
		applies := "all"
		if len(k.Sources) > 0 {
			applies = "srcType " + strings.Join(k.Sources, ", ")
		} else if len(k.Dests) > 0 {
			applies = "destType " + strings.Join(k.Dests, ", ")
		}
		doc := strings.ReplaceAll(k.Doc, "|", "\\|")
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", name, def, kind, applies, doc)
	}
}

const mdIntro = "<!-- Generated from internal/config (go test ./internal/config -update). Do not edit. -->\n\n" +
	`# Configuration reference

ossimport reads three files from conf/:

- the job file: ` + "`conf/job.cfg`" + ` (distributed) or ` + "`conf/local_job.cfg`" + ` (standalone);
- ` + "`conf/sys.properties`" + `: settings of the service itself;
- ` + "`conf/workers`" + `: the machines of a distributed deployment.

The job and system files use Java properties syntax, exactly as Alibaba's
ossimport reads them: ` + "`#`/`!`" + ` comment lines, ` + "`\\`" + ` at the end of a line
continues it, ` + "`\\uXXXX`" + ` escapes, and ` + "`=`, `:`" + ` or blanks between key and value.
` + "`${...}`" + ` is kept literally. Trailing blanks of a value are dropped. Because the
backslash is an escape character, write Windows paths with ` + "`/`" + `.

Differences from ossimport: a key that is left out takes its default (ossimport
stops with a NullPointerException); an unknown key is a warning that names the
closest known key; every problem is reported with file and line, all at once.
Run ` + "`ossimport check [job.cfg] [--sys FILE] [--workers FILE]`" + ` to see all problems and
the effective values (secrets are masked).

Sizes are whole numbers with an optional ` + "`k`, `m`, `g` or `t`" + ` suffix (also ` + "`kb`, `mb`, `gb`" + `,
any case), meaning powers of 1024; a plain number is bytes. Keys marked (ext)
exist only in this implementation.
`

const mdOutro = `
### Paths in sys.properties

Relative paths (workingDir, privateKeyFile, sshKnownHostsFile, the NATS files)
are resolved against the package directory, the parent of the directory that
holds sys.properties: with ` + "`conf/sys.properties`" + `, ` + "`workdir`" + ` means ` + "`./workdir`" + `.
A leading ` + "`~/`" + ` is the current user's home directory.

### Bandwidth timetable

` + "`workerMaxThroughputSchedule`" + ` lists space-separated ` + "`HH:MM,RATE`" + ` entries; each rate
holds from its time until the next entry, wrapping around midnight. RATE is
bytes per second with an optional k, M or G suffix, or ` + "`off`" + `/` + "`0`" + ` for no cap.
Entries may name a weekday instead (` + "`Mon-08:00,10M Sat-00:00,off`" + `); the two forms
cannot be mixed. Example: ` + "`08:00,512k 12:00,10M 13:00,512k 18:00,30M 23:00,off`" + `.

### Filters

` + "`includePatterns`" + ` and ` + "`excludePatterns`" + ` hold comma-separated patterns in Go's
path.Match syntax (` + "`*`, `?`, `[a-z]`, `\\` escapes" + `), matched against the path relative to
srcPrefix. A pattern without ` + "`/`" + ` matches the file name in any directory; otherwise
the whole relative path must match, and a ` + "`**`" + ` path element matches any number
of directories. A file is copied when it matches an include pattern (or none
are set), matches no exclude pattern, and its size lies within
minFileSize..maxFileSize.

### Destinations

` + "`destType=oss`" + ` (default) and ` + "`destType=s3`" + ` need destBucket; oss also needs destDomain,
while s3 without destDomain means AWS. With ` + "`destType=local`" + `, destBucket is the
absolute destination directory and destPrefix still prefixes every path.

### conf/workers

One host per line: an IPv4 address, an IPv6 address (bare, ` + "`[v6]`" + ` or ` + "`[v6]:port`" + `)
or a host name, optionally followed by ` + "`:port`" + ` to override sshPort. ` + "`#`" + ` starts a
comment. The same host and port may appear only once. The first host runs the
master and the console.
`
