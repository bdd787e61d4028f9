// Package httplist reads the files named in an HTTP URL list as a
// migration source (srcType=http). Its name avoids shadowing net/http.
//
// # List file
//
// The format is ossimport's: a plain text file, one file per line, the
// line split into columns by spaces or tabs. The column httpPrefixColumn
// (default 1) holds a URL prefix and relativePathColumn (default 2) the
// relative path; the download URL is the two joined as written:
//
//	http://127.0.0.1/aa/   bb.jpg      -> URL http://127.0.0.1/aa/bb.jpg, key bb.jpg
//	http://127.0.0.1/      aa/bb.jpg   -> URL http://127.0.0.1/aa/bb.jpg, key aa/bb.jpg
//
// Blank lines and lines starting with '#' are skipped. Since columns are
// separated by white space, a path with spaces must be written
// %-encoded; the object key is the relative path %-decoded ("a%20b.jpg"
// is fetched as written and stored as "a b.jpg"), so a literal '%' in a
// name is written "%25". The engine adds destPrefix to the key.
//
// A line with a carriage return (a file with Windows or old Mac line
// endings) or with fewer columns than the settings need makes the listing
// fail, naming the file and up to 20 bad line numbers with the fix
// (ossimport reports "Unknown http list file format").
//
// # Listing
//
// List keeps the file's order (Capabilities.UnsortedListing); its token
// is the byte offset of the next line, so it may be checkpointed as long
// as the file is not rewritten. Listed objects have Size -1 (unknown: the
// URLs are not fetched while listing, as in ossimport) and carry their URL
// prefix in Meta.User[PrefixMetaKey], so a planner can start a new task
// where the prefix changes, as ossimport does.
//
// # Reading
//
// Stat and Open receive only the key. The store finds its URL in an index
// of the list built on first use by reading the file once (and again when
// the file changes). The index holds every key and costs about 80 bytes
// plus the key's length per line: some 1.3 GB for ten million lines with
// 50-byte keys. When a key appears on several lines the first one wins.
// See Open for how servers that ignore Range requests are handled.
package httplist

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"

	"github.com/ossimport/ossimport/internal/storage"
)

// PrefixMetaKey is the Meta.User key under which List reports each
// object's URL prefix (its httpPrefixColumn). It is not object metadata:
// never copy it to a destination.
const PrefixMetaKey = "ossimport-url-prefix"

// Default columns, 1-based as in job.cfg.
const (
	DefaultPrefixColumn = 1
	DefaultPathColumn   = 2
)

func init() {
	storage.Register("http", func(ctx context.Context, spec storage.Spec) (storage.Store, error) {
		return New(ctx, spec)
	})
}

// Store is one URL list file and the web servers it points to.
type Store struct {
	list   *listFile
	client *http.Client
}

var _ storage.Source = (*Store)(nil)

// New opens the list spec.HTTPListFile with the columns
// spec.HTTPPrefixColumn and spec.RelativePathColumn (1-based; 0 means the
// default 1 and 2). The file is read when first listed or used, not here.
func New(_ context.Context, spec storage.Spec) (*Store, error) {
	path := spec.HTTPListFile
	if path == "" {
		return nil, errors.New("open http source: httpListFilePath is empty: set it to the URL list file")
	}
	if !filepath.IsAbs(path) {
		return nil, fmt.Errorf("open http source: httpListFilePath %q is not an absolute path", path)
	}
	cols, err := columnsOf(spec.HTTPPrefixColumn, spec.RelativePathColumn)
	if err != nil {
		return nil, fmt.Errorf("open http source: %w", err)
	}
	client := spec.HTTPClient
	if client == nil {
		client = &http.Client{}
	}
	return &Store{list: &listFile{path: path, cols: cols}, client: client}, nil
}

func columnsOf(prefix, path int) (columns, error) {
	if prefix == 0 {
		prefix = DefaultPrefixColumn
	}
	if path == 0 {
		path = DefaultPathColumn
	}
	switch {
	case prefix < 0:
		return columns{}, fmt.Errorf("httpPrefixColumn %d is not a column number (1 is the first)", prefix)
	case path < 0:
		return columns{}, fmt.Errorf("relativePathColumn %d is not a column number (1 is the first)", path)
	case prefix == path:
		return columns{}, fmt.Errorf("httpPrefixColumn and relativePathColumn are both %d: they must differ", prefix)
	}
	return columns{prefix: prefix - 1, path: path - 1}, nil
}

// String names the store by its list file, e.g. "http-list:/data/http.list".
func (s *Store) String() string { return "http-list:" + s.list.path }

// Capabilities reports a read-only source listed in file order, with
// ranged reads (see Open for servers that ignore them).
func (s *Store) Capabilities() storage.Capabilities {
	return storage.Capabilities{CanList: true, RangedRead: true, UnsortedListing: true}
}

// URL returns the URL key is downloaded from.
func (s *Store) URL(ctx context.Context, key string) (string, error) {
	e, err := s.list.lookup(ctx, key)
	if err != nil {
		return "", err
	}
	return e.url(), nil
}

// PrefixOf returns the URL prefix List reported for info, or "" when info
// does not come from an HTTP list.
func PrefixOf(info storage.ObjectInfo) string { return info.Meta.User[PrefixMetaKey] }

// listFile is the list file with its cached validation and key index.
type listFile struct {
	path string
	cols columns

	checkMu sync.Mutex
	checked *validation // the last validation, nil before the first

	indexMu sync.Mutex
	index   *keyIndex // nil until Stat or Open needs it

	rollupMu sync.Mutex
	rollup   *rollup // the last delimiter listing's prefixes, nil before one
}
