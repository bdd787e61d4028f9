package youpaitest

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash/fnv"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

func (s *Server) nowLocked() time.Time { return time.Now().Add(s.clock) }

var errNotFound = errorf(http.StatusNotFound, 40400001, "file or directory not found")

// listEntry is one folder entry with its sort key.
type listEntry struct {
	name  string
	dir   bool
	size  int64
	mtime int64
	ctype string
	tie   uint64 // orders entries of the same second, not by name
}

func (e listEntry) less(o listEntry) bool {
	if e.mtime != o.mtime {
		return e.mtime < o.mtime
	}
	if e.tie != o.tie {
		return e.tie < o.tie
	}
	return e.name < o.name
}

func tieOf(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

// cursor is what an x-upyun-list-iter of this server holds.
type cursor struct {
	Epoch int    `json:"e"`
	Dir   string `json:"d"`
	Desc  bool   `json:"o,omitempty"`
	MTime int64  `json:"t"`
	Tie   uint64 `json:"h"`
	Name  string `json:"n"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawStdEncoding.EncodeToString(b)
}

func decodeCursor(v string) (cursor, bool) {
	var c cursor
	b, err := base64.RawStdEncoding.DecodeString(v)
	return c, err == nil && json.Unmarshal(b, &c) == nil
}

// list answers one page of a folder.
func (s *Server) list(w http.ResponseWriter, r *http.Request, bucket, rel string) *apiError {
	limit := 100
	if v := r.Header.Get("X-List-Limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return errorf(400, 40000015, "invalid x-list-limit")
		}
		limit = min(n, 10000)
	}
	desc := false
	switch strings.ToLower(r.Header.Get("X-List-Order")) {
	case "", "asc":
	case "desc":
		desc = true
	default:
		return errorf(403, 40300014, "order must be asc or desc")
	}
	s.mu.Lock()
	entries, e := s.readDir(bucket, rel)
	epoch := s.epoch
	s.mu.Unlock()
	if e != nil {
		return e
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].less(entries[j]) != desc })
	dirID := metaKey(bucket, rel)
	start := 0
	switch it := r.Header.Get("X-List-Iter"); it {
	case "":
	case EndIter:
		start = len(entries)
	default:
		c, ok := decodeCursor(it)
		if !ok || c.Epoch != epoch || c.Dir != dirID || c.Desc != desc {
			s.mu.Lock()
			s.counts["iter-refused"]++
			s.mu.Unlock()
			return errorf(400, 40000000, "invalid or expired x-list-iter")
		}
		at := listEntry{name: c.Name, mtime: c.MTime, tie: c.Tie}
		start = sort.Search(len(entries), func(i int) bool {
			if desc {
				return entries[i].less(at)
			}
			return at.less(entries[i])
		})
	}
	end := min(start+limit, len(entries))
	page, next := entries[start:end], EndIter
	if end < len(entries) {
		last := page[len(page)-1]
		next = cursor{Epoch: epoch, Dir: dirID, Desc: desc, MTime: last.mtime, Tie: last.tie, Name: last.name}.encode()
	}
	writeListing(w, r, page, next)
	return nil
}

func writeListing(w http.ResponseWriter, r *http.Request, page []listEntry, next string) {
	w.Header().Set("x-upyun-list-iter", next)
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		type jsonFile struct {
			Name         string `json:"name"`
			Type         string `json:"type"`
			Length       int64  `json:"length"`
			LastModified int64  `json:"last_modified"`
		}
		files := make([]jsonFile, 0, len(page))
		for _, e := range page {
			typ := e.ctype
			if e.dir {
				typ = "folder"
			}
			files = append(files, jsonFile{e.name, typ, e.size, e.mtime})
		}
		body, _ := json.Marshal(map[string]any{"files": files, "iter": next})
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
		return
	}
	lines := make([]string, 0, len(page))
	for _, e := range page {
		typ := "N"
		if e.dir {
			typ = "F"
		}
		lines = append(lines, e.name+"\t"+typ+"\t"+strconv.FormatInt(e.size, 10)+"\t"+strconv.FormatInt(e.mtime, 10))
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, strings.Join(lines, "\n"))
}

// readDir returns the entries of a folder; s.mu is held.
func (s *Server) readDir(bucket, rel string) ([]listEntry, *apiError) {
	dirents, err := os.ReadDir(s.fsPath(bucket, rel))
	if err != nil {
		return nil, errNotFound
	}
	entries := make([]listEntry, 0, len(dirents))
	for _, d := range dirents {
		info, err := d.Info()
		if err != nil {
			continue
		}
		e := listEntry{name: d.Name(), dir: d.IsDir(), mtime: info.ModTime().Unix(), tie: tieOf(d.Name())}
		child := strings.TrimSuffix(rel, "/")
		if child != "" {
			child += "/"
		}
		if m := s.meta[metaKey(bucket, child+d.Name())]; m != nil {
			e.mtime, e.ctype = m.mtime.Unix(), m.contentType
		}
		if !e.dir {
			e.size = info.Size()
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// download answers HEAD, or GET of a file.
func (s *Server) download(w http.ResponseWriter, r *http.Request, bucket, rel string, head bool) *apiError {
	s.mu.Lock()
	fi, err := os.Stat(s.fsPath(bucket, rel))
	m := s.metaOf(bucket, rel, fi)
	s.mu.Unlock()
	switch {
	case err != nil || (strings.HasSuffix(rel, "/") && !fi.IsDir()):
		return errNotFound
	case head && fi.IsDir():
		h := w.Header()
		h.Set("x-upyun-file-type", "folder")
		h.Set("x-upyun-file-size", "0")
		h.Set("x-upyun-file-date", strconv.FormatInt(m.mtime.Unix(), 10))
		return nil
	case head:
		h := w.Header()
		fileHeaders(h, m)
		h.Set("x-upyun-file-type", "file")
		h.Set("x-upyun-file-size", strconv.FormatInt(fi.Size(), 10))
		h.Set("x-upyun-file-date", strconv.FormatInt(m.mtime.Unix(), 10))
		h.Set("Content-Length", strconv.FormatInt(fi.Size(), 10))
		h.Set("Last-Modified", m.mtime.UTC().Format(http.TimeFormat))
		return nil
	}
	return s.serveFile(w, r, bucket, rel, true)
}

// serveFile sends a file's bytes, honouring Range; meta adds the UPYUN
// headers of the API (the CDN sends plain HTTP).
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, bucket, rel string, meta bool) *apiError {
	s.mu.Lock()
	f, err := os.Open(s.fsPath(bucket, rel))
	var fi fs.FileInfo
	if err == nil {
		fi, err = f.Stat()
	}
	if err == nil && fi.IsDir() {
		_ = f.Close()
		err = errors.New("is a folder")
	}
	var m *fileMeta
	cut := false
	if err == nil {
		m = s.metaOf(bucket, rel, fi)
		if s.truncate > 0 {
			s.truncate--
			cut = true
		}
	}
	s.mu.Unlock()
	if err != nil {
		return errNotFound
	}
	defer f.Close()
	if meta {
		fileHeaders(w.Header(), m)
	} else {
		w.Header().Set("Content-Type", m.contentType)
		w.Header().Set("ETag", `"`+m.md5+`"`)
	}
	var out http.ResponseWriter = w
	if cut {
		out = &cutWriter{ResponseWriter: w, left: fi.Size() / 2}
	}
	http.ServeContent(out, r, "", m.mtime, f)
	return nil
}

// fileHeaders sets what the API sends about a file.
func fileHeaders(h http.Header, m *fileMeta) {
	h.Set("Content-Type", m.contentType)
	if m.md5 != "" {
		h.Set("Content-MD5", m.md5)
		h.Set("ETag", `"`+m.md5+`"`)
	}
	for k, v := range m.user {
		h[k] = v
	}
}

// metaOf returns the metadata of an existing file or folder, made up from
// the file system when the server holds none; s.mu is held.
func (s *Server) metaOf(bucket, rel string, fi fs.FileInfo) *fileMeta {
	if m := s.meta[metaKey(bucket, rel)]; m != nil {
		return m
	}
	m := &fileMeta{contentType: "application/octet-stream"}
	if fi != nil {
		m.mtime = fi.ModTime()
	}
	return m
}

// cutWriter passes on only the first left bytes of a body and swallows
// the rest, so the client sees a connection that ends early.
type cutWriter struct {
	http.ResponseWriter
	left int64
}

func (c *cutWriter) Write(p []byte) (int, error) {
	if c.left <= 0 {
		return len(p), nil
	}
	n := min(int64(len(p)), c.left)
	c.left -= n
	if _, err := c.ResponseWriter.Write(p[:n]); err != nil {
		return 0, err
	}
	return len(p), nil
}

// put stores a file.
func (s *Server) put(w http.ResponseWriter, r *http.Request, bucket, rel string) *apiError {
	if rel == "" || strings.HasSuffix(rel, "/") {
		return errorf(406, 40600001, "dir not acceptable")
	}
	if r.ContentLength < 0 {
		return errorf(400, 40000011, "chunked request bodies not supported yet")
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, r.ContentLength+1))
	if err != nil || int64(len(data)) != r.ContentLength {
		return errorf(400, 40000025, "file size not match")
	}
	sum := md5.Sum(data)
	sumHex := hex.EncodeToString(sum[:])
	if want := r.Header.Get("Content-MD5"); want != "" && !strings.EqualFold(want, sumHex) {
		return errorf(400, 40000006, "content md5 not match")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if dir := path.Dir(rel); dir != "." {
		if e := s.makeDirs(bucket, dir); e != nil {
			return e
		}
	}
	p := s.fsPath(bucket, rel)
	if fi, err := os.Stat(p); err == nil && fi.IsDir() {
		return errorf(406, 40600001, "dir not acceptable")
	}
	if err := writeFile(filepath.Join(s.root, "tmp"), p, data); err != nil {
		return errorf(503, 50300027, "put file to fs error")
	}
	m := &fileMeta{contentType: r.Header.Get("Content-Type"), md5: sumHex, mtime: s.nowLocked(), user: http.Header{}}
	if m.contentType == "" {
		m.contentType = mime.TypeByExtension(path.Ext(rel))
	}
	if m.contentType == "" {
		m.contentType = "application/octet-stream"
	}
	for k, v := range r.Header {
		if strings.HasPrefix(strings.ToLower(k), "x-upyun-meta-") {
			m.user[k] = v
		}
	}
	s.meta[metaKey(bucket, rel)] = m
	return nil
}

// writeFile replaces p with data atomically.
func writeFile(tmpDir, p string, data []byte) error {
	f, err := os.CreateTemp(tmpDir, "put-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), p)
	}
	if err != nil {
		_ = os.Remove(f.Name())
	}
	return err
}

// makeDirs creates every missing folder of dir; s.mu is held.
func (s *Server) makeDirs(bucket, dir string) *apiError {
	cur := ""
	for seg := range strings.SplitSeq(strings.TrimSuffix(dir, "/"), "/") {
		cur = path.Join(cur, seg)
		p := s.fsPath(bucket, cur)
		fi, err := os.Stat(p)
		switch {
		case err == nil && !fi.IsDir():
			return errorf(406, 40600001, "dir not acceptable")
		case err == nil:
			continue
		}
		if err := os.Mkdir(p, 0o755); err != nil {
			return errorf(503, 50300027, "put file to fs error")
		}
		s.meta[metaKey(bucket, cur)] = &fileMeta{mtime: s.nowLocked()}
	}
	return nil
}

// mkdir answers POST with "folder: true".
func (s *Server) mkdir(bucket, rel string, r *http.Request) *apiError {
	if r.Header.Get("folder") != "true" && r.Header.Get("x-upyun-folder") != "true" {
		return errorf(400, 40000015, "POST needs the folder: true header")
	}
	if rel == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.makeDirs(bucket, rel)
}

// remove deletes a file or an empty folder.
func (s *Server) remove(bucket, rel string) *apiError {
	if rel == "" {
		return errorf(403, 40300011, "has no permission to delete")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.fsPath(bucket, rel)
	fi, err := os.Stat(p)
	if err != nil {
		return errNotFound
	}
	if fi.IsDir() {
		if ents, err := os.ReadDir(p); err != nil || len(ents) > 0 {
			return errorf(403, 40300005, "directory not empty")
		}
	}
	if err := os.Remove(p); err != nil {
		return errorf(503, 50300008, "delete hub error")
	}
	delete(s.meta, metaKey(bucket, rel))
	return nil
}
