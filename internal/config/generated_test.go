package config

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite generated templates, docs and golden files")

// repoFile is a path relative to the repository root.
func repoFile(rel string) string { return filepath.Join("..", "..", filepath.FromSlash(rel)) }

// TestGeneratedFilesUpToDate checks that the shipped templates and
// docs/configuration.md match the key tables. Regenerate with
// go test ./internal/config -run TestGeneratedFilesUpToDate -update.
func TestGeneratedFilesUpToDate(t *testing.T) {
	files := map[string][]byte{
		"conf/job.cfg":          JobTemplate(false),
		"conf/local_job.cfg":    JobTemplate(true),
		"conf/sys.properties":   SysTemplate(),
		"docs/configuration.md": ReferenceMarkdown(),
	}
	for rel, want := range files {
		path := repoFile(rel)
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is out of date; run go test ./internal/config -run TestGeneratedFilesUpToDate -update", rel)
		}
	}
}

// TestTemplatesValid checks that every shipped template passes validation
// without errors and lists every key exactly once.
func TestTemplatesValid(t *testing.T) {
	for _, tc := range []struct {
		rel  string
		keys []Key
	}{
		{"conf/job.cfg", jobKeys}, {"conf/local_job.cfg", jobKeys}, {"conf/sys.properties", sysKeys},
	} {
		data, err := os.ReadFile(repoFile(tc.rel))
		if err != nil {
			t.Fatal(err)
		}
		var diags Diagnostics
		if tc.rel != "conf/sys.properties" {
			_, diags = ParseJob(tc.rel, data)
		} else {
			_, diags = ParseSys(tc.rel, data)
		}
		for _, d := range diags.Errors() {
			t.Errorf("%s", d)
		}
		pf, _ := parseProperties(tc.rel, data)
		if len(pf.keys) != len(tc.keys) {
			t.Errorf("%s lists %d keys, want %d", tc.rel, len(pf.keys), len(tc.keys))
		}
		for _, k := range tc.keys {
			if _, ok := pf.lines[k.Name]; !ok {
				t.Errorf("%s does not list %s", tc.rel, k.Name)
			}
		}
	}
	if _, diags := ParseWorkers("conf/workers.example", mustRead(t, repoFile("conf/workers.example"))); diags.HasErrors() {
		t.Errorf("conf/workers.example: %v", diags)
	}
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
