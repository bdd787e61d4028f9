package config

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Kind says how a key's text is read.
type Kind int

// The kinds of configuration values.
const (
	KindString   Kind = iota // text, used as written (trailing blanks removed)
	KindEnum                 // one word out of a fixed list
	KindBool                 // true or false, case-insensitive
	KindInt                  // whole number
	KindSize                 // byte count with optional k/m/g suffix, see ParseSize
	KindSeconds              // whole number of seconds, stored as time.Duration
	KindList                 // comma-separated list of words
	KindSchedule             // bandwidth timetable, see ParseSchedule
	KindMillis               // whole number of milliseconds, stored as time.Duration
)

// String names the kind as the documentation does.
func (k Kind) String() string {
	return [...]string{"string", "enum", "bool", "int", "size", "seconds", "list", "schedule", "milliseconds"}[k]
}

// Key describes one configuration key. The tables returned by JobKeys and
// SysKeys drive parsing, defaults, the effective-configuration listing,
// suggestions for misspelt keys, the templates and the documentation.
type Key struct {
	Name    string   // as written in the file, e.g. "srcPrefix"
	Default string   // default value, in file syntax
	Kind    Kind     // how the value is read
	Doc     string   // one or more sentences for templates and docs
	Section string   // heading under which templates list the key
	Enum    []string // allowed values of a KindEnum key
	// Min and Max bound KindInt, KindSize, KindSeconds and KindMillis
	// values (in seconds and milliseconds for the last two) when Bounded
	// is true.
	Min, Max int64
	Bounded  bool
	// Secret keys are printed as "****"; PartSecret keys (access key IDs)
	// show only their first four characters.
	Secret, PartSecret bool
	// Sources and Dests list the srcType / destType values the key is used
	// for; empty means all.
	Sources, Dests []string
	// Extension marks keys ossimport does not have.
	Extension bool
	// Aliases are other names accepted for the key.
	Aliases []Alias
}

// Alias is another name accepted for a key.
type Alias struct {
	Name string
	// Legacy aliases (the v2.1 "slave*" names) draw a warning.
	Legacy bool
}

// registry binds a table of keys to the fields of a struct type through
// `key:"..."` struct tags.
type registry struct {
	keys   []Key
	byName map[string]int   // key names and aliases -> index in keys
	field  map[string][]int // key name -> field index path
}

func newRegistry(keys []Key, t reflect.Type) *registry {
	r := &registry{keys: keys, byName: map[string]int{}, field: map[string][]int{}}
	for i, k := range keys {
		r.byName[k.Name] = i
		for _, a := range k.Aliases {
			r.byName[a.Name] = i
		}
	}
	for _, f := range reflect.VisibleFields(t) {
		if name := f.Tag.Get("key"); name != "" {
			r.field[name] = f.Index
		}
	}
	for _, k := range keys {
		if _, ok := r.field[k.Name]; !ok {
			panic(fmt.Sprintf("config: key %q has no field in %s", k.Name, t))
		}
	}
	return r
}

// lookup returns the key named name (or aliased by it).
func (r *registry) lookup(name string) (Key, bool) {
	i, ok := r.byName[name]
	if !ok {
		return Key{}, false
	}
	return r.keys[i], true
}

// fieldOf returns the struct field holding key k inside the struct v points to.
func (r *registry) fieldOf(v reflect.Value, k Key) reflect.Value {
	return v.Elem().FieldByIndex(r.field[k.Name])
}

// setDefaults stores every key's default into the struct v points to.
func (r *registry) setDefaults(v reflect.Value) {
	for _, k := range r.keys {
		if err := decodeValue(r.fieldOf(v, k), k, k.Default); err != nil {
			panic(fmt.Sprintf("config: default of %q: %v", k.Name, err))
		}
	}
}

// decodeValue parses text according to k and stores it in f. An empty text
// gives the key's default for every kind except KindString.
func decodeValue(f reflect.Value, k Key, text string) error {
	text = strings.TrimSpace(text)
	if text == "" && k.Kind != KindString && k.Kind != KindList {
		text = k.Default
	}
	switch k.Kind {
	case KindString, KindEnum:
		f.SetString(text)
	case KindBool:
		return decodeBool(f, text)
	case KindInt, KindSize, KindSeconds, KindMillis:
		return decodeNumber(f, k, text)
	case KindList:
		f.Set(reflect.ValueOf(splitList(text)))
	case KindSchedule:
		s, err := ParseSchedule(text)
		if err != nil {
			return fmt.Errorf("is invalid: %w", err)
		}
		f.Set(reflect.ValueOf(s))
	}
	return nil
}

func decodeBool(f reflect.Value, text string) error {
	switch strings.ToLower(text) {
	case "true":
		f.SetBool(true)
	case "false", "":
		f.SetBool(false)
	default:
		return fmt.Errorf("is not a boolean (write true or false)")
	}
	return nil
}

func decodeNumber(f reflect.Value, k Key, text string) error {
	var n int64
	var err error
	if k.Kind == KindSize {
		n, err = ParseSize(text)
		switch {
		case errors.Is(err, errSizeRange):
			err = fmt.Errorf("is too large")
		case err != nil:
			err = errors.New("is not a size (write a whole number with an optional k, m or g suffix, e.g. 50m)")
		}
	} else {
		n, err = strconv.ParseInt(text, 10, 64)
		if err != nil {
			err = fmt.Errorf("is not a whole number (write digits only, e.g. %s)", k.Default)
		}
	}
	if err != nil {
		return err
	}
	if unit := durationUnit(k); unit != 0 {
		if n > math.MaxInt64/int64(unit) || n < math.MinInt64/int64(unit) {
			return fmt.Errorf("is too large")
		}
		n *= int64(unit)
	}
	if f.OverflowInt(n) {
		return fmt.Errorf("is too large")
	}
	f.SetInt(n)
	return nil
}

// splitList splits a comma-separated list, trimming blanks and dropping
// empty entries.
func splitList(text string) []string {
	var out []string
	for p := range strings.SplitSeq(text, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// formatValue writes the value of f the way a user would write it in the
// file, without masking secrets.
func formatValue(f reflect.Value, k Key) string {
	switch k.Kind {
	case KindBool:
		return strconv.FormatBool(f.Bool())
	case KindInt:
		return strconv.FormatInt(f.Int(), 10)
	case KindSize:
		return FormatSize(f.Int())
	case KindSeconds, KindMillis:
		return strconv.FormatInt(f.Int()/int64(durationUnit(k)), 10)
	case KindList:
		return strings.Join(f.Interface().([]string), ",")
	case KindSchedule:
		return f.Interface().(Schedule).String()
	}
	return f.String()
}

// numberOf returns the numeric value of a KindInt, KindSize, KindSeconds
// or KindMillis field (in the key's unit for the last two).
func numberOf(f reflect.Value, k Key) int64 {
	if unit := durationUnit(k); unit != 0 {
		return f.Int() / int64(unit)
	}
	return f.Int()
}

// durationUnit is the unit a duration key is written in, or 0 for keys
// that are not durations.
func durationUnit(k Key) time.Duration {
	switch k.Kind {
	case KindSeconds:
		return time.Second
	case KindMillis:
		return time.Millisecond
	}
	return 0
}

// masked returns value as it may be shown to the user.
func masked(k Key, value string) string {
	switch {
	case value == "":
		return ""
	case k.Secret:
		return "****"
	case k.PartSecret:
		if len(value) < 12 {
			return "****"
		}
		return value[:4] + "****"
	}
	return value
}

// shown quotes a value for a diagnostic, masking secrets.
func shown(k Key, value string) string {
	if k.Secret || k.PartSecret {
		return masked(k, value)
	}
	return strconv.Quote(value)
}

// suggest returns the known name closest to name, or "" when none is
// close enough to be a likely typo.
func suggest(name string, names []string) string {
	if len(name) > 100 {
		return ""
	}
	best, bestDist := "", math.MaxInt
	lname := strings.ToLower(name)
	limit := max(2, len(name)/4)
	for _, n := range names {
		if abs(len(n)-len(name)) > limit {
			continue // the distance is at least the length difference
		}
		d := editDistance(lname, strings.ToLower(n))
		if d < bestDist {
			best, bestDist = n, d
		}
	}
	if bestDist > limit || bestDist >= len(name) {
		return ""
	}
	return best
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// names lists every key name and alias of r.
func (r *registry) names() []string {
	out := make([]string, 0, len(r.byName))
	for n := range r.byName {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// decode reads every key of pf into the struct v points to and returns the
// line of each key that was set, under its canonical name. Keys that belong
// to the other file kind (foreign) get a pointed warning.
func (r *registry) decode(pf *propFile, v reflect.Value, foreign *registry, foreignFile string) (map[string]int, Diagnostics) {
	lines := map[string]int{}
	written := map[string]string{} // canonical name -> name used in the file
	var diags Diagnostics
	for _, name := range pf.keys {
		line := pf.lines[name]
		k, ok := r.lookup(name)
		if !ok {
			diags = append(diags, r.unknown(pf.name, line, name, foreign, foreignFile))
			continue
		}
		if prev, dup := written[k.Name]; dup {
			diags = append(diags, Diagnostic{File: pf.name, Line: line, Key: k.Name,
				Msg: fmt.Sprintf("%q (line %d) and %q (line %d) set the same thing; keep only %q",
					prev, lines[k.Name], name, line, k.Name)})
		}
		written[k.Name] = name
		lines[k.Name] = line
		if a := aliasOf(k, name); a != nil && a.Legacy {
			diags = append(diags, Diagnostic{File: pf.name, Line: line, Key: k.Name, Severity: Warning,
				Msg: fmt.Sprintf("legacy key %s, use %s (the value is used)", name, k.Name)})
		}
		raw := pf.values[name]
		if err := decodeValue(r.fieldOf(v, k), k, raw); err != nil {
			diags = append(diags, Diagnostic{File: pf.name, Line: line, Key: k.Name,
				Msg: fmt.Sprintf("%s %s %v", name, shown(k, strings.TrimSpace(raw)), err)})
		}
	}
	return lines, diags
}

func aliasOf(k Key, name string) *Alias {
	for i := range k.Aliases {
		if k.Aliases[i].Name == name {
			return &k.Aliases[i]
		}
	}
	return nil
}

// unknown builds the warning for a key r does not know.
func (r *registry) unknown(file string, line int, name string, foreign *registry, foreignFile string) Diagnostic {
	d := Diagnostic{File: file, Line: line, Key: name, Severity: Warning}
	if foreign != nil {
		if _, ok := foreign.lookup(name); ok {
			d.Msg = fmt.Sprintf("key %q belongs in %s and is ignored here (move it there)", name, foreignFile)
			return d
		}
	}
	d.Msg = fmt.Sprintf("unknown key %q", name)
	if s := suggest(name, r.names()); s != "" {
		d.Msg += fmt.Sprintf(" (did you mean %q?)", s)
	} else {
		d.Msg += " is ignored (check the spelling against the template)"
	}
	return d
}

// Setting is one line of an effective-configuration listing.
type Setting struct {
	Key string
	// Value is the value in use, written as in the file; secret values are
	// replaced by "****" and access key IDs are shortened.
	Value string
	// File and Line say where the value came from; Line is 0 for a value
	// that was not read from a file.
	File string
	Line int
	// Default reports whether Value equals the key's default.
	Default bool
	// Note is an optional remark, e.g. how a relative path was resolved.
	Note string
}

// Source returns "file:line" for a value read from a file, "default" for a
// default value and "set" for a value set in code.
func (s Setting) Source() string {
	switch {
	case s.Line > 0:
		return fmt.Sprintf("%s:%d", s.File, s.Line)
	case s.Default:
		return "default"
	}
	return "set"
}

// effective lists every key of r with the value found in the struct v
// points to.
func (r *registry) effective(v reflect.Value, file string, lines map[string]int) []Setting {
	out := make([]Setting, 0, len(r.keys))
	def := reflect.New(v.Elem().Type())
	r.setDefaults(def)
	for _, k := range r.keys {
		val := formatValue(r.fieldOf(v, k), k)
		s := Setting{Key: k.Name, Value: masked(k, val), Line: lines[k.Name],
			Default: val == formatValue(r.fieldOf(def, k), k)}
		if s.Line > 0 {
			s.File = file
		}
		out = append(out, s)
	}
	return out
}
