package dashboard

import (
	"errors"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/logging"
	"github.com/ossimport/ossimport/internal/workdir"
)

// Endpoint is one side of a job: where it reads or writes. It holds no
// credential: the endpoint is shown without user information, query or
// fragment.
type Endpoint struct {
	Type     string `json:"type"`
	Endpoint string `json:"endpoint,omitempty"`
	Bucket   string `json:"bucket,omitempty"`
	Prefix   string `json:"prefix,omitempty"`
	// ListFile is the URL list of an http source.
	ListFile string `json:"listFile,omitempty"`
}

// Route is where a job copies from and to.
type Route struct {
	Source      Endpoint `json:"source"`
	Destination Endpoint `json:"destination"`
}

// routeOf reads the route of a parsed job file.
func routeOf(j *config.Job) Route {
	r := Route{
		Source:      Endpoint{Type: j.SrcType, Endpoint: maskEndpoint(j.SrcDomain), Bucket: j.SrcBucket, Prefix: j.SrcPrefix},
		Destination: Endpoint{Type: j.DestType, Endpoint: maskEndpoint(j.DestDomain), Bucket: j.DestBucket, Prefix: j.DestPrefix},
	}
	if j.SrcType == "http" {
		r.Source.ListFile = j.HTTPListFilePath
	}
	return r
}

// maskEndpoint returns an endpoint without what may carry a secret:
// user information ("user:password@"), query and fragment.
func maskEndpoint(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if u, err := url.Parse(s); err == nil && u.Scheme != "" && u.Host != "" {
		u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
		return u.String()
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	return s
}

// jobMeta is what the dashboard reads about a job besides its status:
// its route (from the job file) and when it started and ended.
type jobMeta struct {
	route   *Route
	started time.Time
	ended   time.Time
}

// stamped is a value read from a file, with the file's size and
// modification time when it was read.
type stamped[T any] struct {
	mod  time.Time
	size int64
	v    T
}

// fresh reports whether fi is the file s was read from.
func (s stamped[T]) fresh(fi fs.FileInfo) bool {
	return s.size == fi.Size() && s.mod.Equal(fi.ModTime())
}

// metaCache keeps each job's route and start, read again only when
// their file changes.
type metaCache struct {
	mu      sync.Mutex
	routes  map[string]stamped[*Route]
	started map[string]stamped[time.Time]
}

func newMetaCache() *metaCache {
	return &metaCache{routes: map[string]stamped[*Route]{}, started: map[string]stamped[time.Time]{}}
}

// meta returns a job's route, start and end. The start is the scan's
// start (the current round's, for an incremental job); the end, for a
// job that ended, when its last task was filed (the newest of the
// finished-task folders' modification times).
func (c *metaCache) meta(dir workdir.Dir, job string, ended bool) jobMeta {
	c.mu.Lock()
	defer c.mu.Unlock()
	var m jobMeta
	m.route = c.route(dir, job)
	m.started = c.start(dir, job)
	if ended {
		for _, state := range []string{workdir.Succeed, workdir.Failed} {
			if fi, err := os.Stat(filepath.Join(dir.Job(job), state)); err == nil && fi.ModTime().After(m.ended) {
				m.ended = fi.ModTime()
			}
		}
		if !m.ended.IsZero() && m.ended.Before(m.started) {
			m.ended = time.Time{}
		}
	}
	return m
}

// route reads the route from the job's masked job file; nil without
// one. The caller holds mu.
func (c *metaCache) route(dir workdir.Dir, job string) *Route {
	path := dir.JobFile(job)
	fi, err := os.Stat(path)
	if err != nil {
		delete(c.routes, job)
		return nil
	}
	if s, ok := c.routes[job]; ok && s.fresh(fi) {
		return s.v
	}
	var r *Route
	if data, err := os.ReadFile(path); err == nil {
		j, _ := config.ParseJob(filepath.Base(path), data)
		rt := routeOf(j)
		r = &rt
	}
	c.routes[job] = stamped[*Route]{mod: fi.ModTime(), size: fi.Size(), v: r}
	return r
}

// start reads the scan's start from the job's checkpoint; zero when
// there is none yet. The caller holds mu.
func (c *metaCache) start(dir workdir.Dir, job string) time.Time {
	path := dir.Checkpoint(job)
	fi, err := os.Stat(path)
	if err != nil {
		delete(c.started, job)
		return time.Time{}
	}
	if s, ok := c.started[job]; ok && s.fresh(fi) {
		return s.v
	}
	var t time.Time
	if cp, err := workdir.LoadCheckpoint(path); err == nil && cp != nil && cp.Started > 0 {
		t = time.UnixMilli(cp.Started)
	}
	c.started[job] = stamped[time.Time]{mod: fi.ModTime(), size: fi.Size(), v: t}
	return t
}

// keepOnly drops what is kept of the jobs not in jobs.
func (c *metaCache) keepOnly(jobs []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	keep := map[string]bool{}
	for _, j := range jobs {
		keep[j] = true
	}
	for j := range c.routes {
		if !keep[j] {
			delete(c.routes, j)
		}
	}
	for j := range c.started {
		if !keep[j] {
			delete(c.started, j)
		}
	}
}

// Setting is one key of a job's effective configuration.
type Setting struct {
	Key   string `json:"key"`
	Value string `json:"value"`
	// Source is "default", or "job.cfg:<line>" for a value from the file.
	Source  string `json:"source"`
	Default bool   `json:"default"`
	Note    string `json:"note,omitempty"`
}

// JobConfig is a job's configuration as the dashboard shows it: the job
// file kept in its folder and every key's effective value, secrets
// masked.
type JobConfig struct {
	Job string `json:"job"`
	// File is where the job file is kept, relative to the working
	// directory.
	File     string    `json:"file"`
	Text     string    `json:"text"`
	Settings []Setting `json:"settings"`
	Route    Route     `json:"route"`
}

// errNoJobFile says a job's folder keeps no job file.
var errNoJobFile = errors.New("no job file is kept in the job's folder (a job submitted by an older version, or its file could not be written)")

// maxJobFile caps the job file read.
const maxJobFile = 1 << 20

// ReadJobConfig reads the job file kept in job's folder and returns it
// and its effective settings, with every secret masked (masked again:
// the file is written masked). The caller checks that job is a job of
// dir.
func ReadJobConfig(dir workdir.Dir, job string) (JobConfig, error) {
	path := dir.JobFile(job)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return JobConfig{}, errNoJobFile
	}
	if err != nil {
		return JobConfig{}, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxJobFile+1))
	if err != nil {
		return JobConfig{}, err
	}
	if len(data) > maxJobFile {
		return JobConfig{}, errors.New("the job file is larger than 1 MiB")
	}
	masked := config.MaskJobFile(data)
	j, _ := config.ParseJob(filepath.Base(path), masked)
	out := JobConfig{Job: job, Text: maskText(string(masked)), Route: routeOf(j), Settings: []Setting{}}
	if rel, err := filepath.Rel(string(dir), path); err == nil {
		out.File = rel
	}
	for _, s := range j.Effective() {
		out.Settings = append(out.Settings, Setting{Key: s.Key, Value: maskText(s.Value), Source: s.Source(), Default: s.Default, Note: maskText(s.Note)})
	}
	return out, nil
}

// urlUserInfo finds the user information of URLs ("scheme://user:password@").
var urlUserInfo = regexp.MustCompile(`(?i)([a-z][a-z0-9+.-]*://)[^/\s@]*@`)

// maskText masks what the job file masking leaves: credentials inside
// URLs (user information, signed query parameters) and secrets written
// as key=value in free text.
func maskText(s string) string {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		if strings.HasSuffix(strings.TrimRight(l, "\r\n"), "=****") {
			continue // masked by config.MaskJobFile already
		}
		lines[i] = logging.MaskText(urlUserInfo.ReplaceAllString(l, "${1}"+logging.Masked+"@"))
	}
	return strings.Join(lines, "")
}
