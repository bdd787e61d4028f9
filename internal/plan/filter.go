package plan

import (
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/ossimport/ossimport/internal/storage"
)

// Filter selects the objects a job migrates.
type Filter struct {
	// Since keeps objects modified after it (importSince); zero keeps all.
	Since time.Time
	// Include and Exclude are shell patterns matched against the key
	// relative to the job's prefix; "**" matches across "/". An object is
	// kept when it matches some Include (or Include is empty) and no
	// Exclude.
	Include []string
	Exclude []string
	// MinSize and MaxSize bound object sizes; 0 means no bound.
	MinSize, MaxSize int64

	include, exclude []*regexp.Regexp
}

// Compile checks the patterns; call it once before use.
func (f *Filter) Compile() error {
	var err error
	if f.include, err = compileGlobs(f.Include); err != nil {
		return fmt.Errorf("include pattern: %w", err)
	}
	if f.exclude, err = compileGlobs(f.Exclude); err != nil {
		return fmt.Errorf("exclude pattern: %w", err)
	}
	return nil
}

// Keep reports whether the object at rel (its key relative to the
// prefix) passes the filter.
func (f *Filter) Keep(rel string, info storage.ObjectInfo) bool {
	switch {
	case !f.Since.IsZero() && !info.ModTime.After(f.Since):
		return false
	case f.MinSize > 0 && info.Size >= 0 && info.Size < f.MinSize:
		return false
	case f.MaxSize > 0 && info.Size > f.MaxSize:
		return false
	case len(f.include) > 0 && !matchAny(f.include, rel):
		return false
	}
	return !matchAny(f.exclude, rel)
}

func matchAny(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// compileGlobs turns shell patterns into regular expressions: "*" and
// "?" stay within one path element, "**" crosses them, "[...]" is a class.
// A pattern without "/" matches the base name at any depth.
func compileGlobs(globs []string) ([]*regexp.Regexp, error) {
	var out []*regexp.Regexp
	for _, g := range globs {
		g = strings.TrimSpace(g)
		if g == "" {
			continue
		}
		if _, err := path.Match(strings.ReplaceAll(g, "**", "*"), ""); err != nil {
			return nil, fmt.Errorf("%q: %w", g, err)
		}
		re, err := regexp.Compile(globRegexp(g))
		if err != nil {
			return nil, fmt.Errorf("%q: %w", g, err)
		}
		out = append(out, re)
	}
	return out, nil
}

func globRegexp(g string) string {
	var b strings.Builder
	b.WriteString("^")
	if !strings.Contains(g, "/") {
		b.WriteString("(?:.*/)?")
	}
	for i := 0; i < len(g); i++ {
		switch c := g[i]; c {
		case '*':
			switch {
			case strings.HasPrefix(g[i:], "**/"):
				b.WriteString("(?:.*/)?")
				i += 2
			case strings.HasPrefix(g[i:], "**"):
				b.WriteString(".*")
				i++
			default:
				b.WriteString("[^/]*")
			}
		case '?':
			b.WriteString("[^/]")
		case '[':
			end := strings.IndexByte(g[i:], ']')
			class := g[i+1 : i+end]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + class + "]")
			i += end
		case '\\':
			if i+1 < len(g) {
				i++
				b.WriteString(regexp.QuoteMeta(g[i : i+1]))
			}
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return b.String()
}

// keep applies the job's filters to a listed object.
func (o *Options) keep(info storage.ObjectInfo) bool {
	if info.IsDir {
		return false
	}
	if o.Filter != nil && !o.Filter.Keep(strings.TrimPrefix(info.Key, o.Prefix), info) {
		return false
	}
	return o.Changed == nil || o.Changed(info)
}
