package config

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testdataDir = "../../testdata/config"

// TestValidTestdata checks that every sample job file is free of errors
// and warnings.
func TestValidTestdata(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testdataDir, "*.cfg"))
	if err != nil || len(files) < 12 {
		t.Fatalf("found %d sample files (%v)", len(files), err)
	}
	for _, f := range files {
		j, diags, err := LoadJob(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range diags {
			t.Errorf("%s: %s", d.Severity, d)
		}
		if j.DestType == "oss" && strings.HasPrefix(filepath.Base(f), "dest-") {
			t.Errorf("%s: destType not read", f)
		}
	}
	for _, st := range SourceTypes {
		if _, err := os.Stat(filepath.Join(testdataDir, st+".cfg")); err != nil {
			t.Errorf("no sample for srcType %s: %v", st, err)
		}
	}
}

// TestBadTestdataGolden checks the diagnostics of every broken sample
// against its .golden file. Regenerate with -update.
func TestBadTestdataGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testdataDir, "bad", "*"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, ".golden") {
			continue
		}
		n++
		t.Run(filepath.Base(f), func(t *testing.T) {
			got := renderDiags(diagnoseFile(t, f))
			golden := f + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if want := mustRead(t, golden); !bytes.Equal(got, want) {
				t.Errorf("diagnostics differ from %s (rerun with -update after checking)\ngot:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
	if n < 10 {
		t.Errorf("only %d broken samples", n)
	}
}

// diagnoseFile parses a sample under a short, machine-independent name.
func diagnoseFile(t *testing.T, path string) Diagnostics {
	data := mustRead(t, path)
	name := "bad/" + filepath.Base(path)
	var diags Diagnostics
	switch filepath.Ext(path) {
	case ".cfg":
		_, diags = ParseJob(name, data)
	case ".properties":
		_, diags = ParseSys(name, data)
	case ".workers":
		_, diags = ParseWorkers(name, data)
	default:
		t.Fatalf("unexpected file %s", path)
	}
	if !diags.HasErrors() {
		t.Errorf("%s has no errors", path)
	}
	return diags
}

func renderDiags(diags Diagnostics) []byte {
	var b bytes.Buffer
	for _, d := range diags {
		fmt.Fprintf(&b, "%s: %s\n", d.Severity, d)
	}
	return b.Bytes()
}
