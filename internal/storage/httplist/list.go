package httplist

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/ossimport/ossimport/internal/storage"
)

const defaultListLimit = 1000

// List returns the next page of the list's entries whose keys start with
// opts.Prefix, in file order. The whole file is checked first (once per
// version of the file): any bad line fails the listing with ErrListFormat.
//
// The token is the byte offset of the line the next page starts at.
//
// With a Delimiter, keys with the delimiter after the prefix are rolled up
// into Prefixes, each reported once, where its first key appears in the
// file. Knowing which were reported on earlier pages needs the lines
// before the token: the store remembers them for the listing it served
// last, so paging through a listing reads the file once, and resuming in
// a new process reads the lines before the token once more.
func (s *Store) List(ctx context.Context, opts storage.ListOptions) (storage.Page, error) {
	st, err := s.list.validate(ctx)
	if err != nil {
		return storage.Page{}, err
	}
	from := int64(0)
	if opts.Token != "" {
		from, err = strconv.ParseInt(opts.Token, 10, 64)
		if err != nil || from < 0 || from > st.size {
			return storage.Page{}, fmt.Errorf("list url list %s: token %q is not an offset in the file (%d bytes)", s.list.path, opts.Token, st.size)
		}
	}
	limit := opts.Limit
	if limit <= 0 {
		limit = defaultListLimit
	}
	pl := &pager{opts: opts, limit: limit, end: st.size}
	if opts.Delimiter != "" {
		s.list.rollupMu.Lock()
		defer s.list.rollupMu.Unlock()
		if pl.seen, err = s.list.seenBefore(ctx, st, opts, from); err != nil {
			return storage.Page{}, err
		}
	}
	next, err := s.list.readPage(ctx, pl, from)
	if opts.Delimiter != "" {
		if err != nil {
			s.list.rollup = nil // its set has part of a page in it
		} else {
			s.list.rollup.upTo = next
		}
	}
	if err != nil {
		return storage.Page{}, err
	}
	if next < st.size {
		pl.page.NextToken = strconv.FormatInt(next, 10)
	}
	return pl.page, nil
}

// pager collects one page.
type pager struct {
	opts  storage.ListOptions
	limit int
	end   int64               // the size of the validated file
	seen  map[string]struct{} // rolled-up prefixes reported so far
	page  storage.Page
}

// readPage fills pl from offset from and returns the offset after the last
// line it used.
func (l *listFile) readPage(ctx context.Context, pl *pager, from int64) (int64, error) {
	next := pl.end
	err := l.readLines(ctx, from, pl.end, func(ln line) (bool, error) {
		e, skip, problem := l.cols.parse(ln.text)
		if problem != "" {
			// Only when the file changed since it was checked.
			return false, fmt.Errorf("read url list %s: %w: the line at byte %d: %s", l.path, ErrListFormat, ln.start, problem)
		}
		if !skip {
			pl.add(e)
		}
		if len(pl.page.Objects)+len(pl.page.Prefixes) >= pl.limit {
			next = ln.end
			return false, nil
		}
		return true, nil
	})
	return next, err
}

// add puts e on the page as an object or as a prefix not reported yet.
func (pl *pager) add(e entry) {
	p, ok := rollUp(e.key, pl.opts.Prefix, pl.opts.Delimiter)
	switch {
	case !ok:
		return
	case p != "":
		if _, dup := pl.seen[p]; !dup {
			pl.seen[strings.Clone(p)] = struct{}{}
			pl.page.Prefixes = append(pl.page.Prefixes, p)
		}
	default:
		pl.page.Objects = append(pl.page.Objects, storage.ObjectInfo{
			Key:   e.key,
			Size:  -1,
			IsDir: strings.HasSuffix(e.key, "/"),
			Meta:  storage.Metadata{User: map[string]string{PrefixMetaKey: e.prefix}},
		})
	}
}

// rollUp reports whether key is in the listing of prefix, and the common
// prefix it rolls up to ("" when it is listed as an object).
func rollUp(key, prefix, delim string) (string, bool) {
	if !strings.HasPrefix(key, prefix) {
		return "", false
	}
	if delim == "" {
		return "", true
	}
	if i := strings.Index(key[len(prefix):], delim); i >= 0 {
		return key[:len(prefix)+i+len(delim)], true
	}
	return "", true
}

// rollup remembers the prefixes a delimiter listing reported before
// offset upTo of one file version.
type rollup struct {
	state         fileState
	prefix, delim string
	upTo          int64
	seen          map[string]struct{}
}

// seenBefore returns the prefixes reported before offset from, reusing
// the last listing's set when it is the same listing. The caller holds
// rollupMu.
func (l *listFile) seenBefore(ctx context.Context, st fileState, opts storage.ListOptions, from int64) (map[string]struct{}, error) {
	r := l.rollup
	if r == nil || r.state != st || r.prefix != opts.Prefix || r.delim != opts.Delimiter || r.upTo > from {
		r = &rollup{state: st, prefix: opts.Prefix, delim: opts.Delimiter, seen: map[string]struct{}{}}
		l.rollup = nil
	}
	if r.upTo < from {
		err := l.readLines(ctx, r.upTo, from, func(ln line) (bool, error) {
			if e, skip, problem := l.cols.parse(ln.text); !skip && problem == "" {
				if p, ok := rollUp(e.key, opts.Prefix, opts.Delimiter); ok && p != "" {
					r.seen[strings.Clone(p)] = struct{}{}
				}
			}
			return true, nil
		})
		if err != nil {
			return nil, err
		}
		r.upTo = from
	}
	l.rollup = r
	return r.seen, nil
}
