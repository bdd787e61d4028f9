// Package config reads and checks the three files an ossimport
// installation is configured with:
//
//   - the job file (conf/job.cfg, or conf/local_job.cfg in standalone mode),
//     decoded into a [Job];
//   - conf/sys.properties, decoded into a [Sys];
//   - conf/workers, the list of worker hosts, decoded into [Workers].
//
// The job and system files use Java .properties syntax exactly as the
// original ossimport reads them: "#" and "!" comments, backslash line
// continuations, \uXXXX escapes, "=", ":" or whitespace between key and
// value, and no ${...} expansion. Values are decoded by
// github.com/magiconair/properties; a small scanner in this package finds
// the line each key starts on so that every problem can be reported as
// "file:line: message".
//
// Unlike ossimport, a missing key takes its default value and an unknown
// key is only a warning. Every key, its default and its documentation live
// in one table per file (see [JobKeys] and [SysKeys]); parsing, defaults,
// the effective-configuration listing, suggestions for misspelt keys, the
// shipped templates and docs/configuration.md are all derived from those
// tables.
//
// The package never logs. Problems are returned as [Diagnostics]; only I/O
// failures are returned as errors.
package config
