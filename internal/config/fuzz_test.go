package config

import (
	"path/filepath"
	"strings"
	"testing"
)

// addSeeds adds the shipped templates and sample files matching globs
// (relative to the repository root) to the fuzz corpus.
func addSeeds(f *testing.F, globs ...string) {
	for _, g := range globs {
		files, err := filepath.Glob(repoFile(g))
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			f.Add(mustRead(f, file))
		}
	}
}

// checkLines asserts that every diagnostic points at an existing line.
func checkLines(t *testing.T, data []byte, diags Diagnostics) {
	t.Helper()
	max := strings.Count(normalizeText(data), "\n") + 1
	for _, d := range diags {
		if d.Line < 0 || d.Line > max {
			t.Fatalf("diagnostic on line %d of a %d-line file: %s", d.Line, max, d)
		}
		if strings.HasPrefix(d.Msg, "cannot parse the file") {
			t.Fatalf("the scanner missed a syntax error the library rejects: %q", data)
		}
		if d.Msg == "" || d.File != "f" {
			t.Fatalf("incomplete diagnostic %+v", d)
		}
	}
}

func FuzzParseJob(f *testing.F) {
	addSeeds(f, "conf/*.cfg", "testdata/config/*.cfg", "testdata/config/bad/*.cfg")
	f.Add([]byte("a\\\nb=c\\u00e9\\\r\n  d\r=\\"))
	f.Fuzz(func(t *testing.T, data []byte) {
		j, diags := ParseJob("f", data)
		if j == nil {
			t.Fatal("nil job")
		}
		checkLines(t, data, diags)
		checkAgreement(t, data)
		_ = j.Effective()
		if f, err := NewPathFilter(j); err == nil {
			f.Match("a/b/c.txt", 10)
		}
	})
}

func FuzzParseSys(f *testing.F) {
	addSeeds(f, "conf/sys.properties", "testdata/config/bad/*.properties")
	f.Add([]byte("workerMaxThroughputSchedule=Mon-08:00,1M Tue-23:59,off\nnatsUrl=nats://[::1]:4222\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, diags := ParseSys("f", data)
		if s == nil {
			t.Fatal("nil sys")
		}
		checkLines(t, data, diags)
		_ = s.Effective()
	})
}

func FuzzParseWorkers(f *testing.F) {
	addSeeds(f, "conf/workers", "testdata/config/bad/*.workers")
	f.Fuzz(func(t *testing.T, data []byte) {
		w, diags := ParseWorkers("f", data)
		if w == nil {
			t.Fatal("nil workers")
		}
		checkLines(t, data, diags)
		for _, h := range w.Hosts {
			if h.Line < 1 || h.Host == "" {
				t.Fatalf("bad host %+v", h)
			}
		}
	})
}
