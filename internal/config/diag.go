package config

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Severity tells whether a diagnostic stops a configuration from being used.
type Severity int

const (
	// Error marks a problem that must be fixed before the configuration
	// can be used. It is the zero value so that a half-built Diagnostic
	// fails closed.
	Error Severity = iota
	// Warning marks a setting that is accepted but probably not what the
	// user meant.
	Warning
)

// String returns "error" or "warning".
func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// Diagnostic is one problem found in a configuration file.
type Diagnostic struct {
	// File is the file name as given to the parser; empty for a Job or Sys
	// built in code.
	File string
	// Line is the 1-based line where the key's logical line starts, or 0
	// when the problem concerns a key that is absent from the file (or the
	// file as a whole).
	Line int
	// Key is the configuration key concerned, if any.
	Key string
	// Severity is Error or Warning.
	Severity Severity
	// Msg says what is wrong and how to fix it. It never contains the value
	// of a secret key.
	Msg string
}

// String formats d as "file:line: msg", leaving out ":line" when Line is 0
// and "file: " when File is empty.
func (d Diagnostic) String() string {
	switch {
	case d.File != "" && d.Line > 0:
		return fmt.Sprintf("%s:%d: %s", d.File, d.Line, d.Msg)
	case d.File != "":
		return d.File + ": " + d.Msg
	case d.Line > 0:
		return fmt.Sprintf("line %d: %s", d.Line, d.Msg)
	}
	return d.Msg
}

// Diagnostics is the list of problems found in one or more files.
type Diagnostics []Diagnostic

// HasErrors reports whether any diagnostic has Severity Error.
func (ds Diagnostics) HasErrors() bool {
	return slices.ContainsFunc(ds, func(d Diagnostic) bool { return d.Severity == Error })
}

// Errors returns the diagnostics with Severity Error.
func (ds Diagnostics) Errors() Diagnostics { return ds.filter(Error) }

// Warnings returns the diagnostics with Severity Warning.
func (ds Diagnostics) Warnings() Diagnostics { return ds.filter(Warning) }

func (ds Diagnostics) filter(s Severity) Diagnostics {
	var out Diagnostics
	for _, d := range ds {
		if d.Severity == s {
			out = append(out, d)
		}
	}
	return out
}

// Err returns nil when ds holds no errors, and otherwise an *InvalidError
// listing every error (warnings are left out).
func (ds Diagnostics) Err() error {
	errs := ds.Errors()
	if len(errs) == 0 {
		return nil
	}
	return &InvalidError{Diagnostics: errs}
}

// sort orders diagnostics by file, then line; diagnostics without a line
// come after those with one. The order among equal positions is kept.
func (ds Diagnostics) sort() {
	slices.SortStableFunc(ds, func(a, b Diagnostic) int {
		if c := cmp.Compare(a.File, b.File); c != 0 {
			return c
		}
		return cmp.Compare(lineRank(a.Line), lineRank(b.Line))
	})
}

func lineRank(line int) int {
	if line <= 0 {
		return int(^uint(0) >> 1)
	}
	return line
}

// InvalidError is returned by [Diagnostics.Err]. It carries the errors so
// that callers can print them one per line.
type InvalidError struct {
	Diagnostics Diagnostics
}

// Error lists the problems, one per line after a summary.
func (e *InvalidError) Error() string {
	var b strings.Builder
	if n := len(e.Diagnostics); n == 1 {
		b.WriteString("invalid configuration: ")
		b.WriteString(e.Diagnostics[0].String())
		return b.String()
	}
	fmt.Fprintf(&b, "invalid configuration (%d errors):", len(e.Diagnostics))
	for _, d := range e.Diagnostics {
		b.WriteString("\n\t")
		b.WriteString(d.String())
	}
	return b.String()
}
