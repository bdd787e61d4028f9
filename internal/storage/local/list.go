package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/ossimport/ossimport/internal/storage"
)

// defaultLimit is the page size when ListOptions.Limit is not set.
const defaultLimit = 1000

// List implements storage.Lister; see the package documentation for what
// is listed. Delimiter may be "" or "/".
func (s *Store) List(ctx context.Context, opts storage.ListOptions) (storage.Page, error) {
	if opts.Delimiter != "" && opts.Delimiter != "/" {
		return storage.Page{}, fmt.Errorf("list %q: %w: delimiter %q (only \"/\")", opts.Prefix, storage.ErrNotSupported, opts.Delimiter)
	}
	if err := ctx.Err(); err != nil {
		return storage.Page{}, fmt.Errorf("list %q: %w", opts.Prefix, err)
	}
	if err := s.checkRoot(); err != nil {
		return storage.Page{}, err
	}
	limit := opts.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	w := s.takeWalk(opts)
	if w == nil {
		var err error
		if w, err = s.newWalker(ctx, opts); err != nil {
			w.close()
			return storage.Page{}, err
		}
	}
	var page storage.Page
	for n := 0; ; n++ {
		it, ok, err := w.next(ctx)
		if err != nil {
			w.close()
			return storage.Page{}, err
		}
		if !ok {
			return page, nil
		}
		if n == limit {
			// One more entry exists: keep it for the next page.
			w.pending = &it
			page.NextToken = w.last
			s.putWalk(walkKey{opts.Prefix, opts.Delimiter, page.NextToken}, w)
			return page, nil
		}
		if it.prefix != "" {
			page.Prefixes = append(page.Prefixes, it.prefix)
		} else {
			page.Objects = append(page.Objects, it.obj)
		}
		w.last = it.key()
	}
}

// checkRoot reports a missing root as storage.ErrBucketNotExist.
func (s *Store) checkRoot() error {
	fi, err := os.Stat(s.root)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("list %s: %w: %w", s, storage.ErrBucketNotExist, err)
	case err != nil:
		return mapErr("list", s.root, err)
	case !fi.IsDir():
		return fmt.Errorf("list %s: %w: the root is not a directory", s, storage.ErrBucketNotExist)
	}
	return nil
}

// item is one listed entry: an object, or a common prefix.
type item struct {
	obj    storage.ObjectInfo
	prefix string
}

func (it item) key() string {
	if it.prefix != "" {
		return it.prefix
	}
	return it.obj.Key
}

// walker is a listing in progress: a depth-first walk holding one sorted
// directory per level of the current path.
type walker struct {
	s       *Store
	delim   string
	stack   []*frame
	pending *item  // read ahead by the previous page
	last    string // the last key or prefix returned
}

// frame is one directory being walked.
type frame struct {
	dir   string   // the directory's key: "" for the root, else ending in "/"
	names []string // sorted entries: files by name, directories by name+"/"
	next  int      // index of the next entry to visit
	// d is the directory, kept open while it is walked: its files are
	// looked up relative to it (statAt), not by their whole path.
	d *os.File
	// ahead holds the lookups of the files from entry aheadAt on, made
	// in parallel before they are visited (see lookup).
	ahead   []looked
	aheadAt int
}

// close closes the frame's directory.
func (f *frame) close() {
	if f.d != nil {
		_ = f.d.Close()
		f.d = nil
	}
}

// close closes the directories of the frames still open.
func (w *walker) close() {
	if w == nil {
		return
	}
	for _, f := range w.stack {
		f.close()
	}
	w.stack = nil
}

func isDirName(name string) bool { return strings.HasSuffix(name, "/") }

// newWalker starts a listing, positioned after opts.Token.
func (s *Store) newWalker(ctx context.Context, opts storage.ListOptions) (*walker, error) {
	w := &walker{s: s, delim: opts.Delimiter}
	cut := strings.LastIndexByte(opts.Prefix, '/') + 1
	dir, namePrefix := opts.Prefix[:cut], opts.Prefix[cut:]
	if dir != "" {
		if why := badKey(strings.TrimSuffix(dir, "/")); why != "" {
			return nil, fmt.Errorf("list %q: %w: %s", opts.Prefix, storage.ErrInvalidKey, why)
		}
	}
	resume, token := "", opts.Token
	switch {
	case strings.HasPrefix(token, dir):
		resume = token[len(dir):]
	case token > dir:
		return w, nil // the token is past every key under dir
	}
	if ok, err := s.isRealDir(dir); !ok || err != nil {
		return w, err
	}
	f, err := s.readFrame(ctx, dir, namePrefix)
	if f == nil || err != nil {
		return w, err
	}
	w.stack = append(w.stack, f)
	err = w.seek(ctx, f, resume)
	return w, err
}

// seek positions the walk after the key f.dir+resume, descending into the
// directories on the way to it ("" means from the start).
func (w *walker) seek(ctx context.Context, f *frame, resume string) error {
	for resume != "" {
		straddles := func(name string) bool {
			return w.delim == "" && isDirName(name) && strings.HasPrefix(resume, name)
		}
		f.next = sort.Search(len(f.names), func(i int) bool {
			return f.names[i] > resume || straddles(f.names[i])
		})
		if f.next == len(f.names) || !straddles(f.names[f.next]) {
			return nil
		}
		name := f.names[f.next]
		f.next++
		child, err := w.s.readFrame(ctx, f.dir+name, "")
		if child == nil || err != nil {
			return err
		}
		w.stack = append(w.stack, child)
		f, resume = child, resume[len(name):]
	}
	return nil
}

// next returns the next entry of the listing; false when there is none.
func (w *walker) next(ctx context.Context) (item, bool, error) {
	if it := w.pending; it != nil {
		w.pending = nil
		return *it, true, nil
	}
	for len(w.stack) > 0 {
		if err := ctx.Err(); err != nil {
			return item{}, false, fmt.Errorf("list %s: %w", w.s, err)
		}
		top := w.stack[len(w.stack)-1]
		if top.next == len(top.names) {
			top.close()
			w.stack = w.stack[:len(w.stack)-1]
			continue
		}
		i := top.next
		top.next++
		if it, ok, err := w.visit(ctx, top, i); ok || err != nil {
			return it, ok, err
		}
	}
	return item{}, false, nil
}

// visit handles entry i of the directory in frame in: a file becomes an
// item, a directory a prefix (with a delimiter) or a new frame (without).
func (w *walker) visit(ctx context.Context, in *frame, i int) (item, bool, error) {
	key := in.dir + in.names[i]
	if !isDirName(key) {
		info, err := w.lookup(in, i)
		switch {
		case errors.Is(err, storage.ErrNotRegular):
			// A special file (or a link to one): listed, never read, so
			// that the copy reports it as skipped instead of dropping it.
			info.Size = 0
			return item{obj: info}, true, nil
		case errors.Is(err, storage.ErrNotExist):
			return item{}, false, nil // gone, or a link to a directory
		case err != nil:
			return item{}, false, fmt.Errorf("list %s: %w", w.s, err)
		}
		return item{obj: info}, true, nil
	}
	if w.delim != "" {
		has, err := w.s.hasListable(ctx, key)
		return item{prefix: key}, has, err
	}
	f, err := w.s.readFrame(ctx, key, "")
	if f != nil {
		w.stack = append(w.stack, f)
	}
	return item{}, false, err
}

// readFrame reads the directory dir (a key ending in "/", or "" for the
// root), keeping the entries whose names start with namePrefix. It
// returns nil for a directory that vanished or holds nothing.
func (s *Store) readFrame(ctx context.Context, dir, namePrefix string) (*frame, error) {
	var names []string
	d, err := s.openDir(dir)
	if d == nil || err != nil {
		return nil, err
	}
	err = s.readOpenDir(ctx, d, dir, func(name string, typ fs.FileMode) bool {
		switch {
		case !strings.HasPrefix(name, namePrefix):
		case typ.IsDir():
			names = append(names, name+"/")
		default: // files, links, and special files (listed to be reported)
			names = append(names, name)
		}
		return true
	})
	if err != nil || len(names) == 0 {
		_ = d.Close()
		return nil, err
	}
	slices.Sort(names)
	return &frame{dir: dir, names: names, d: d}, nil
}

// readDir calls fn for each entry of directory dir except the store's own
// temporary files and multipart directory, in directory order, until fn
// returns false. A directory that vanished or is not one is empty.
func (s *Store) readDir(ctx context.Context, dir string, fn func(name string, typ fs.FileMode) bool) error {
	d, err := s.openDir(dir)
	if d == nil || err != nil {
		return err
	}
	defer d.Close()
	return s.readOpenDir(ctx, d, dir, fn)
}

// openDir opens the directory dir; nil when it vanished or is not one.
func (s *Store) openDir(dir string) (*os.File, error) {
	d, err := os.Open(filepath.Join(s.root, filepath.FromSlash(dir)))
	if err != nil {
		return nil, listErr(dir, err)
	}
	return d, nil
}

// readOpenDir is readDir of the open directory d.
func (s *Store) readOpenDir(ctx context.Context, d *os.File, dir string, fn func(name string, typ fs.FileMode) bool) error {
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("list %q: %w", dir, err)
		}
		entries, err := d.ReadDir(1024)
		for _, e := range entries {
			name := e.Name()
			if strings.HasPrefix(name, tmpPrefix) || (dir == "" && name == multipartDir && e.IsDir()) {
				continue
			}
			if !fn(name, e.Type()) {
				return nil
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return listErr(dir, err)
		}
	}
}

// listErr maps an error reading a directory: one that vanished (or was
// replaced by a file) is empty, other errors end the listing.
func listErr(dir string, err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil
	}
	return mapErr("list", dir, err)
}

// isRealDir reports whether the directory key dir exists under the root
// without passing through a symbolic link.
func (s *Store) isRealDir(dir string) (bool, error) {
	p := s.root
	for _, elem := range strings.Split(strings.TrimSuffix(dir, "/"), "/") {
		if elem == "" {
			continue
		}
		p = filepath.Join(p, elem)
		fi, err := os.Lstat(p)
		if err != nil || !fi.IsDir() {
			return false, listErr(dir, err)
		}
	}
	return true, nil
}

// hasListable reports whether the directory dir holds, at any depth,
// something List would return. It stops at the first such entry.
func (s *Store) hasListable(ctx context.Context, dir string) (bool, error) {
	found := false
	var subdirs []string
	err := s.readDir(ctx, dir, func(name string, typ fs.FileMode) bool {
		switch {
		case typ.IsDir():
			subdirs = append(subdirs, dir+name+"/")
		case typ&fs.ModeSymlink != 0:
			_, err := s.objectInfo(dir + name)
			found = err == nil || errors.Is(err, storage.ErrNotRegular)
		default: // a file, or a special file (listed to be reported)
			found = true
		}
		return !found
	})
	for _, sub := range subdirs {
		if found || err != nil {
			break
		}
		found, err = s.hasListable(ctx, sub)
	}
	return found, err
}

// Walk cache: the walkers of recent listings, so that the next page of a
// listing continues without reading its directories again.
const (
	maxCachedWalks = 4
	walkCacheTTL   = 10 * time.Minute
)

// walkKey names a listing positioned after a page.
type walkKey struct{ prefix, delim, token string }

type cachedWalk struct {
	key  walkKey
	w    *walker
	when time.Time
}

// takeWalk removes and returns the cached walker that continues opts, or
// nil.
func (s *Store) takeWalk(opts storage.ListOptions) *walker {
	if opts.Token == "" {
		return nil
	}
	k := walkKey{opts.Prefix, opts.Delimiter, opts.Token}
	s.walksMu.Lock()
	defer s.walksMu.Unlock()
	s.walks = slices.DeleteFunc(s.walks, func(c *cachedWalk) bool {
		old := time.Since(c.when) > walkCacheTTL
		if old {
			c.w.close()
		}
		return old
	})
	for i, c := range s.walks {
		if c.key == k {
			s.walks = slices.Delete(s.walks, i, i+1)
			return c.w
		}
	}
	return nil
}

// putWalk caches w under k, forgetting the oldest walker when full.
func (s *Store) putWalk(k walkKey, w *walker) {
	s.walksMu.Lock()
	defer s.walksMu.Unlock()
	s.walks = append(s.walks, &cachedWalk{key: k, w: w, when: time.Now()})
	if len(s.walks) > maxCachedWalks {
		s.walks[0].w.close()
		s.walks[0] = nil
		s.walks = s.walks[1:]
	}
}
