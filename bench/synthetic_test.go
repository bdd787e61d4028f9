// Package bench holds benchmarks of whole engine paths. They are not part
// of the test suite's assertions; run them with
//
//	go test -run '^$' -bench . -benchmem ./bench
//
// and the scripts in this folder for the end-to-end copies.
package bench

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/ossimport/ossimport/internal/storage"
)

// synthetic is a source of n objects generated on the fly, in key order,
// spread over 100 directories: it holds nothing in memory, so a benchmark
// measures the planner alone.
type synthetic struct{ n int }

func (s synthetic) String() string { return "synthetic:" + strconv.Itoa(s.n) }

func (s synthetic) Capabilities() storage.Capabilities {
	return storage.Capabilities{CanList: true, RangedRead: true}
}

func (s synthetic) key(i int) string {
	per := (s.n + 99) / 100
	return fmt.Sprintf("dir%03d/file%08d", i/per, i)
}

// List implements storage.Lister; the token is the index of the next
// object. Delimited listings are served too, so the fan-out can be
// measured.
func (s synthetic) List(_ context.Context, opts storage.ListOptions) (storage.Page, error) {
	limit := opts.Limit
	if limit <= 0 {
		limit = 1000
	}
	start := 0
	if opts.Token != "" {
		start, _ = strconv.Atoi(opts.Token)
	}
	var page storage.Page
	if opts.Delimiter != "" && opts.Prefix == "" {
		for d := start; d < 100 && len(page.Prefixes) < limit; d++ {
			page.Prefixes = append(page.Prefixes, fmt.Sprintf("dir%03d/", d))
		}
		return page, nil
	}
	per := (s.n + 99) / 100
	lo, hi := 0, s.n
	if opts.Prefix != "" {
		d, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(opts.Prefix, "dir"), "/"))
		lo, hi = d*per, min((d+1)*per, s.n)
	}
	i := max(lo, start)
	for ; i < hi && len(page.Objects) < limit; i++ {
		page.Objects = append(page.Objects, storage.ObjectInfo{Key: s.key(i), Size: int64(i%4096 + 1), ModTime: time.Unix(1_700_000_000, 0)})
	}
	if i < hi {
		page.NextToken = strconv.Itoa(i)
	}
	return page, nil
}

func (s synthetic) Stat(context.Context, string) (storage.ObjectInfo, error) {
	return storage.ObjectInfo{}, storage.ErrNotSupported
}

func (s synthetic) Open(context.Context, string, int64, int64) (io.ReadCloser, error) {
	return nil, storage.ErrNotSupported
}
