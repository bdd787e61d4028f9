package runner

import (
	"encoding/csv"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ossimport/ossimport/internal/metrics"
	"github.com/ossimport/ossimport/internal/report"
	"github.com/ossimport/ossimport/internal/workdir"
)

func reportCSV(t *testing.T, dir workdir.Dir, name string) [][]string {
	t.Helper()
	fh, err := os.Open(filepath.Join(report.JobDir(dir, "test_job"), name+".csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	recs, err := csv.NewReader(fh).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs[1:] // the header
}

func checkReportCounts(t *testing.T, dir workdir.Dir, want map[string]int64) {
	t.Helper()
	got, err := report.Summary(report.JobDir(dir, "test_job"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range report.Names {
		if got[name] != want[name] {
			t.Errorf("%s: %d rows, want %d", name, got[name], want[name])
		}
		if n := len(reportCSV(t, dir, name)); int64(n) != want[name] {
			t.Errorf("%s.csv: %d rows, want %d", name, n, want[name])
		}
	}
}

func TestRunWritesReportsAndMetrics(t *testing.T) {
	f := newFixture(t, 20)
	f.spec.Source.Type = register(&changingSource{Store: f.src, key: "data/005.bin"})

	m := metrics.New()
	r, err := New(t.Context(), Options{Job: f.spec, Dir: f.dir, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	checkReportCounts(t, f.dir, map[string]int64{report.Copied: 19, report.Failed: 1})
	failed := reportCSV(t, f.dir, report.Failed)[0]
	if failed[0] != "data/005.bin" || failed[1] != "copy/005.bin" || failed[2] != "SIZE_NOT_MATCH" || failed[3] == "" {
		t.Errorf("failed row %q", failed)
	}
	for _, row := range reportCSV(t, f.dir, report.Copied) {
		if !strings.HasPrefix(row[0], "data/") || row[1] != "copy/"+strings.TrimPrefix(row[0], "data/") || row[3] == "" {
			t.Errorf("copied row %q", row)
		}
	}
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`ossimport_objects_total{job="test_job",result="Succeed"} 19`,
		`ossimport_objects_total{job="test_job",result="SIZE_NOT_MATCH"} 1`,
		`ossimport_tasks{job="test_job",state="failed"} 1`,
		`ossimport_tasks{job="test_job",state="succeed"} 2`,
		`ossimport_scan_objects_listed_total{job="test_job"} 20`,
		`ossimport_objects_in_flight 0`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}

	// The retry appends the object it copies now.
	f.run(t, t.Context(), nil)
	checkReportCounts(t, f.dir, map[string]int64{report.Copied: 20, report.Failed: 1})

	// A fresh working directory finds everything at the destination.
	f.dir, f.spec.Transfer.SkipExisting = workdir.Dir(t.TempDir()), true
	f.run(t, t.Context(), nil)
	checkReportCounts(t, f.dir, map[string]int64{report.Skipped: 20})
}
