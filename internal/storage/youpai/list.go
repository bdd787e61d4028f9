package youpai

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ossimport/ossimport/internal/storage"
)

// endIter is the x-upyun-list-iter of a directory's last page.
const endIter = "g2gCZAAEbmV4dGQAA2VvZg"

const (
	// maxListRequests bounds the directory requests of one List call, so
	// a tree of empty folders cannot keep a call busy for long: the page
	// then comes back short (maybe empty) with a NextToken.
	maxListRequests = 100
	// maxListBody bounds one directory page held in memory.
	maxListBody = 64 << 20
	// tokenVersion is the format of listToken.
	tokenVersion = 1
)

// errGone says a directory of the walk no longer exists; errBudget that
// the call made its maxListRequests.
var (
	errGone   = errors.New("directory is gone")
	errBudget = errors.New("request budget spent")
)

// entry is one line of a directory listing.
type entry struct {
	name  string
	dir   bool
	size  int64
	mtime int64
}

// dirPage is one answer to a directory listing request.
type dirPage struct {
	entries []entry
	next    string // cursor of the following page; "" or endIter after the last
}

func (p *dirPage) last(iter string) bool {
	return p.next == "" || p.next == endIter || p.next == iter
}

// listToken is the walk position a List page ends at, sent as base64url of
// its JSON.
type listToken struct {
	Version int     `json:"v"`
	Prefix  string  `json:"p,omitempty"`
	Delim   bool    `json:"d,omitempty"` // one directory level, folders as Prefixes
	Limit   int     `json:"l"`           // X-List-Limit the cursors were made with
	Stack   []frame `json:"s"`           // the start directory first
}

// frame is the position in one directory of the walk.
type frame struct {
	Name string `json:"n,omitempty"` // folder name in the parent's directory; "" for the start directory
	Iter string `json:"i,omitempty"` // UPYUN cursor of the page being read; "" for the first
	Skip int    `json:"k,omitempty"` // entries of that page handled
	Done int    `json:"c,omitempty"` // entries of the directory handled before that page
	Sum  uint64 `json:"h,omitempty"` // FNV-1a of the handled names, in order
}

// List returns the files under opts.Prefix, depth first, in UPYUN's
// order within each directory; see the package documentation. Delimiter
// may be "" or "/".
func (s *Store) List(ctx context.Context, opts storage.ListOptions) (storage.Page, error) {
	if opts.Delimiter != "" && opts.Delimiter != "/" {
		return storage.Page{}, fmt.Errorf("list %q: %w: UPYUN groups keys by folder only, not by %q",
			opts.Prefix, storage.ErrNotSupported, opts.Delimiter)
	}
	tok, err := s.startToken(opts)
	if err != nil {
		return storage.Page{}, err
	}
	w := &walker{
		s: s, ctx: ctx, tok: tok, limit: opts.Limit,
		namePrefix: opts.Prefix[strings.LastIndex(opts.Prefix, "/")+1:],
		pages:      map[string]*dirPage{},
	}
	if w.limit <= 0 {
		w.limit = defaultListLimit
	}
	if err := w.run(); err != nil {
		return storage.Page{}, err
	}
	w.settle()
	if len(tok.Stack) > 0 {
		w.page.NextToken = tok.encode()
	}
	return w.page, nil
}

// walker is one List call.
type walker struct {
	s          *Store
	ctx        context.Context
	tok        *listToken
	limit      int
	namePrefix string              // what names in the start directory must begin with
	pages      map[string]*dirPage // pages fetched by this call, by dir and cursor
	requests   int
	page       storage.Page
}

func (w *walker) room() int { return w.limit - len(w.page.Objects) - len(w.page.Prefixes) }

// dir is the directory of stack frame i: the start directory, then one
// folder per level, ending in "/" unless it is the bucket root.
func (w *walker) dir(i int) string {
	d := w.tok.Prefix[:strings.LastIndex(w.tok.Prefix, "/")+1]
	for _, f := range w.tok.Stack[1 : i+1] {
		d += f.Name + "/"
	}
	return d
}

func (w *walker) pop() { w.tok.Stack = w.tok.Stack[:len(w.tok.Stack)-1] }

// run walks until the page is full, the walk ends or the request budget
// is spent.
func (w *walker) run() error {
	for len(w.tok.Stack) > 0 && w.room() > 0 {
		if err := w.ctx.Err(); err != nil {
			return fmt.Errorf("list %q: %w", w.tok.Prefix, err)
		}
		top := len(w.tok.Stack) - 1
		dir := w.dir(top)
		pg, err := w.fetch(&w.tok.Stack[top], dir)
		switch {
		case errors.Is(err, errBudget):
			return nil
		case errors.Is(err, errGone):
			w.pop()
			continue
		case err != nil:
			return err
		}
		w.consume(pg, dir, top)
	}
	return nil
}

// consume handles the entries of pg from the frame's position until the
// page ends, the List page is full or the walk enters a folder.
func (w *walker) consume(pg *dirPage, dir string, depth int) {
	f := &w.tok.Stack[depth]
	for f.Skip < len(pg.entries) {
		if w.room() == 0 {
			return
		}
		e := pg.entries[f.Skip]
		f.Skip++
		f.Sum = addName(f.Sum, e.name)
		if !usableName(e.name) || (depth == 0 && !strings.HasPrefix(e.name, w.namePrefix)) {
			continue
		}
		key := dir + e.name
		switch {
		case !e.dir:
			w.page.Objects = append(w.page.Objects, storage.ObjectInfo{
				Key: key, Size: e.size, ModTime: time.Unix(e.mtime, 0).UTC(),
			})
		case w.tok.Delim:
			w.page.Prefixes = append(w.page.Prefixes, key+"/")
		default:
			w.tok.Stack = append(w.tok.Stack, frame{Name: e.name})
			return
		}
	}
	if pg.last(f.Iter) {
		w.pop()
		return
	}
	f.Done += len(pg.entries)
	f.Iter, f.Skip = pg.next, 0
}

// settle drops finished directories whose pages this call already holds,
// so the last page of a walk carries no NextToken when no request is
// needed to know that.
func (w *walker) settle() {
	for len(w.tok.Stack) > 0 {
		top := len(w.tok.Stack) - 1
		f := w.tok.Stack[top]
		pg, ok := w.pages[pageKey(w.dir(top), f.Iter)]
		if !ok || f.Skip < len(pg.entries) || !pg.last(f.Iter) {
			return
		}
		w.pop()
	}
}

func usableName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.Contains(name, "/")
}

func addName(sum uint64, name string) uint64 {
	h := fnv.New64a()
	var b [8]byte
	for i := range b {
		b[i] = byte(sum >> (8 * i))
	}
	h.Write(b[:])
	h.Write([]byte(name))
	return h.Sum64()
}

func pageKey(dir, iter string) string { return dir + "\x00" + iter }

// fetch returns the page the frame is reading.
func (w *walker) fetch(f *frame, dir string) (*dirPage, error) {
	if pg, ok := w.pages[pageKey(dir, f.Iter)]; ok {
		return pg, nil
	}
	if w.requests >= maxListRequests {
		return nil, errBudget
	}
	pg, err := w.load(dir, f.Iter)
	switch {
	case err == nil:
		return pg, nil
	case f.Iter != "" && cursorRefused(err):
		return w.recover(f, dir)
	}
	return nil, w.gone(err, dir)
}

// load requests one page and keeps it for the rest of the call.
func (w *walker) load(dir, iter string) (*dirPage, error) {
	w.requests++
	pg, err := w.s.listDir(w.ctx, dir, iter, w.tok.Limit)
	if err != nil {
		return nil, err
	}
	w.pages[pageKey(dir, iter)] = pg
	return pg, nil
}

// gone turns "not found" into errGone, or into ErrBucketNotExist for the
// root of the service.
func (w *walker) gone(err error, dir string) error {
	if !errors.Is(err, storage.ErrNotExist) {
		return err
	}
	if dir == "" {
		return fmt.Errorf("list %q: %w: the service has no root folder: %v (%s)",
			w.tok.Prefix, storage.ErrBucketNotExist, err, hintBucket)
	}
	return errGone
}

// cursorRefused says whether UPYUN turned down a request for a reason the
// cursor may be to blame for: a client error other than authentication,
// timeout and throttling.
func cursorRefused(err error) bool {
	var ae *apiError
	if !errors.As(err, &ae) || ae.Status < 400 || ae.Status >= 500 {
		return false
	}
	return ae.Status != http.StatusUnauthorized && ae.Status != http.StatusRequestTimeout &&
		ae.Status != http.StatusTooManyRequests
}

// recover lists dir again from its start after UPYUN refused the frame's
// cursor. When the entries handled before come first again, as their
// count and hash show, the frame continues after them; otherwise the
// directory is walked again from its start (entries may repeat, none are
// lost).
func (w *walker) recover(f *frame, dir string) (*dirPage, error) {
	target, want := f.Done+f.Skip, f.Sum
	*f = frame{Name: f.Name}
	for iter := ""; ; {
		pg, err := w.load(dir, iter)
		if err != nil {
			return nil, w.gone(err, dir)
		}
		if f.Done+len(pg.entries) >= target {
			k, sum := target-f.Done, f.Sum
			for _, e := range pg.entries[:k] {
				sum = addName(sum, e.name)
			}
			if sum == want {
				f.Iter, f.Skip, f.Sum = iter, k, sum
				return pg, nil
			}
			break
		}
		if pg.last(iter) {
			break
		}
		for _, e := range pg.entries {
			f.Sum = addName(f.Sum, e.name)
		}
		f.Done += len(pg.entries)
		iter = pg.next
	}
	*f = frame{Name: f.Name}
	return w.pages[pageKey(dir, "")], nil
}

// listDir requests one page of the directory dir ("" for the root).
func (s *Store) listDir(ctx context.Context, dir, iter string, limit int) (*dirPage, error) {
	req, err := s.apiRequest(ctx, http.MethodGet, dir)
	if err != nil {
		return nil, fmt.Errorf("list %q: %w", dir, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-List-Limit", strconv.Itoa(limit))
	req.Header.Set("X-List-Order", "asc")
	if iter != "" {
		req.Header.Set("X-List-Iter", iter)
	}
	resp, err := s.send(req, "list", dir)
	if err != nil {
		return nil, err
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		return nil, failure("list", dir, resp, false)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxListBody+1))
	if err != nil {
		return nil, storage.Transient(fmt.Errorf("list %q: read: %w", dir, err))
	}
	if len(data) > maxListBody {
		return nil, fmt.Errorf("list %q: a page is larger than %d bytes", dir, maxListBody)
	}
	pg, ok, err := parseListing(data, resp.Header.Get("x-upyun-list-iter"))
	switch {
	case err != nil:
		return nil, fmt.Errorf("list %q: %w", dir, err)
	case !ok:
		return nil, fmt.Errorf("list %q: %w: it is a file, not a folder", dir, storage.ErrNotExist)
	}
	return pg, nil
}

// jsonListing is the body of a listing requested with Accept:
// application/json.
type jsonListing struct {
	Files *[]struct {
		Name         string  `json:"name"`
		Type         string  `json:"type"` // "folder", else the file's MIME type
		Length       flexInt `json:"length"`
		LastModified flexInt `json:"last_modified"`
	} `json:"files"`
	Iter string `json:"iter"`
}

// flexInt reads a JSON number or a number in a string.
type flexInt int64

func (n *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*n = 0
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil {
			return fmt.Errorf("not a number: %s", b)
		}
		v = int64(f)
	}
	*n = flexInt(v)
	return nil
}

// parseListing reads a directory page in either format. ok is false when
// the body is not a listing at all: the path named a file.
func parseListing(data []byte, hdrIter string) (pg *dirPage, ok bool, err error) {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '{' {
		var doc jsonListing
		if err := json.Unmarshal(data, &doc); err != nil || doc.Files == nil {
			if hdrIter == "" {
				return nil, false, nil
			}
			return nil, false, fmt.Errorf("malformed JSON listing: %v", err)
		}
		pg := &dirPage{next: hdrIter}
		if pg.next == "" {
			pg.next = doc.Iter
		}
		for _, f := range *doc.Files {
			pg.entries = append(pg.entries, entry{
				name: f.Name, dir: f.Type == "folder" || f.Type == "F",
				size: int64(f.Length), mtime: int64(f.LastModified),
			})
		}
		return pg, true, nil
	}
	if hdrIter == "" {
		return nil, false, nil
	}
	pg = &dirPage{next: hdrIter}
	for line := range strings.SplitSeq(string(data), "\n") {
		if line == "" {
			continue
		}
		fields := strings.Split(line, "\t")
		if len(fields) < 2 {
			return nil, false, fmt.Errorf("malformed listing line %q", line)
		}
		e := entry{name: fields[0], dir: fields[1] == "F"}
		if len(fields) > 2 {
			e.size, _ = strconv.ParseInt(fields[2], 10, 64)
		}
		if len(fields) > 3 {
			e.mtime, _ = strconv.ParseInt(fields[3], 10, 64)
		}
		pg.entries = append(pg.entries, e)
	}
	return pg, true, nil
}

func (t *listToken) encode() string {
	b, err := json.Marshal(t)
	if err != nil {
		panic("youpai: encode list token: " + err.Error()) // plain data cannot fail
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// startToken decodes opts.Token, or starts a walk at the prefix's
// directory.
func (s *Store) startToken(opts storage.ListOptions) (*listToken, error) {
	if opts.Token == "" {
		return &listToken{
			Version: tokenVersion, Prefix: opts.Prefix, Delim: opts.Delimiter != "",
			Limit: min(max(s.pageSize, 1), maxPageSize), Stack: []frame{{}},
		}, nil
	}
	var t listToken
	raw, err := base64.RawURLEncoding.DecodeString(opts.Token)
	if err == nil {
		err = json.Unmarshal(raw, &t)
	}
	if err == nil {
		err = t.check(opts)
	}
	if err != nil {
		return nil, fmt.Errorf("list %q: bad token %q: %w", opts.Prefix, opts.Token, err)
	}
	return &t, nil
}

// check reports why t cannot continue the listing opts asks for.
func (t *listToken) check(opts storage.ListOptions) error {
	switch {
	case t.Version != tokenVersion:
		return fmt.Errorf("format %d, want %d", t.Version, tokenVersion)
	case t.Prefix != opts.Prefix || t.Delim != (opts.Delimiter != ""):
		return fmt.Errorf("it continues the listing of prefix %q (delimiter %v)", t.Prefix, t.Delim)
	case t.Limit < 1 || t.Limit > maxPageSize:
		return fmt.Errorf("page size %d out of range", t.Limit)
	case len(t.Stack) == 0 || t.Stack[0].Name != "" || (t.Delim && len(t.Stack) != 1):
		return errors.New("bad walk stack")
	}
	for i, f := range t.Stack {
		if (i > 0 && !usableName(f.Name)) || f.Skip < 0 || f.Done < 0 {
			return fmt.Errorf("bad walk level %d", i)
		}
	}
	return nil
}
