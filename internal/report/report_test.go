package report

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/transfer"
)

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return recs
}

func readJSONL(t *testing.T, path string) []Row {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []Row
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r Row
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s: line %q: %v", path, sc.Text(), err)
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestRoutesEveryCode(t *testing.T) {
	dir := t.TempDir()
	w, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range transfer.Codes {
		obj := transfer.Object{Key: "k/" + string(c), DstKey: "d/" + string(c), Size: 5}
		if err := w.Add(transfer.Result{Object: obj, Code: c, Detail: "why\nnot", Size: 5}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	counts, err := Summary(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{Copied: 1, Skipped: 1, Verified: 1, Failed: int64(len(transfer.Codes) - 3)}
	for name, n := range want {
		if counts[name] != n {
			t.Errorf("%s: %d rows, want %d", name, counts[name], n)
		}
		recs := readCSV(t, filepath.Join(dir, name+".csv"))
		if int64(len(recs)) != n+1 || recs[0][0] != "key" {
			t.Errorf("%s.csv: %q", name, recs)
		}
		for _, row := range readJSONL(t, filepath.Join(dir, name+".jsonl")) {
			code := transfer.Code(row.SourceKey()[2:])
			if Route(code) != name {
				t.Errorf("%s routed to %s", code, name)
			}
			if name == Failed && (row.Code != string(code) || row.Message != "why\nnot" || row.DestinationKey() != "d/"+string(code) || *row.Size != 5) {
				t.Errorf("failed row %+v", row)
			}
		}
	}
	for _, rec := range readCSV(t, filepath.Join(dir, "failed.csv"))[1:] {
		if len(rec) != 6 || rec[3] != `why\nnot` || rec[4] != "5" {
			t.Errorf("failed.csv record %q", rec)
		}
	}
	if rec := readCSV(t, filepath.Join(dir, "skipped.csv"))[1]; len(rec) != 3 || rec[0] != "k/Skipped" || rec[1] != `why\nnot` {
		t.Errorf("skipped.csv record %q", rec)
	}
}

func TestCopiedChecksumsAndAppend(t *testing.T) {
	dir := t.TempDir()
	at := time.Date(2026, 11, 24, 18, 51, 3, 0, time.UTC)
	sums := storage.Checksums{CRC64: 18446744073709551615, HasCRC64: true, MD5: []byte{0xde, 0xad, 0xbe, 0xef}}
	for i := range 2 { // a resumed run appends
		w, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		r := transfer.Result{Object: transfer.Object{Key: fmt.Sprintf(`"q%d,"`, i)}, Code: transfer.Succeed, Size: 42, Checksums: sums, Check: transfer.CheckCRC64}
		if err := w.AddAt(r, at); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	recs := readCSV(t, filepath.Join(dir, "copied.csv"))
	if len(recs) != 3 {
		t.Fatalf("copied.csv: %q", recs)
	}
	want := []string{`"\"q1,\""`, `"\"q1,\""`, "42", "18446744073709551615", "deadbeef", "2026-11-24T18:51:03Z", "crc64", ""}
	if fmt.Sprint(recs[2]) != fmt.Sprint(want) {
		t.Errorf("record %q, want %q", recs[2], want)
	}
	if k, err := DecodeKey(recs[2][0]); err != nil || k != `"q1,"` {
		t.Errorf("decoded %q %v", k, err)
	}
	rows := readJSONL(t, filepath.Join(dir, "copied.jsonl"))
	if len(rows) != 2 || rows[1].CRC64 != "18446744073709551615" || rows[1].MD5 != "deadbeef" || rows[1].Key != `"q1,"` || rows[1].Check != "crc64" {
		t.Errorf("rows %+v", rows)
	}
}

// TestCRC32CColumn: copied.* carry an object's CRC-32C as S3 shows it
// (base64 of the big-endian value), in a column after the others; a
// copied.csv begun without that column goes on without it.
func TestCRC32CColumn(t *testing.T) {
	at := time.Date(2026, 12, 5, 1, 2, 3, 0, time.UTC)
	// 0xc99465aa is the CRC-32C of "hello world".
	r := transfer.Result{Object: transfer.Object{Key: "k"}, Code: transfer.Succeed, Size: 11, Check: transfer.CheckCRC32C,
		Checksums: storage.Checksums{CRC32C: 0xc99465aa, HasCRC32C: true}}
	for _, c := range []struct {
		name   string
		header string // an existing copied.csv's header row, "" for none
		want   []string
	}{
		{"new file", "", []string{"k", "k", "11", "", "", "2026-12-05T01:02:03Z", "crc32c", "yZRlqg=="}},
		{"begun without the column", "key,dst_key,size,crc64,md5,time,check\n", []string{"k", "k", "11", "", "", "2026-12-05T01:02:03Z", "crc32c"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if c.header != "" {
				if err := os.WriteFile(filepath.Join(dir, "copied.csv"), []byte(c.header), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			w, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.AddAt(r, at); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			recs := readCSV(t, filepath.Join(dir, "copied.csv"))
			if len(recs) != 2 || fmt.Sprint(recs[1]) != fmt.Sprint(c.want) {
				t.Errorf("copied.csv %q, want the header and %q", recs, c.want)
			}
			if rows := readJSONL(t, filepath.Join(dir, "copied.jsonl")); len(rows) != 1 || rows[0].CRC32C != "yZRlqg==" {
				t.Errorf("copied.jsonl %+v", rows)
			}
		})
	}
}

func TestInvalidUTF8Keys(t *testing.T) {
	dir := t.TempDir()
	w, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	key, dst := "dir/\xff\xfe-latin1\xe9.txt", "copy/\xff\xfe-latin1\xe9.txt"
	multi := "line\nbreak"
	for _, r := range []transfer.Result{
		{Object: transfer.Object{Key: key, DstKey: dst}, Code: transfer.UploadFailed, Detail: "boom"},
		{Object: transfer.Object{Key: key}, Code: transfer.Skipped, Detail: "same"},
		{Object: transfer.Object{Key: multi}, Code: transfer.Succeed},
	} {
		if err := w.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	failed := readCSV(t, filepath.Join(dir, "failed.csv"))[1]
	if k, err := DecodeKey(failed[0]); err != nil || k != key {
		t.Errorf("csv key %q -> %q %v", failed[0], k, err)
	}
	if k, err := DecodeKey(failed[1]); err != nil || k != dst {
		t.Errorf("csv dst %q -> %q %v", failed[1], k, err)
	}
	rows := readJSONL(t, filepath.Join(dir, "failed.jsonl"))
	if rows[0].Key != "" || rows[0].SourceKey() != key || rows[0].DestinationKey() != dst {
		t.Errorf("jsonl row %+v", rows[0])
	}
	if r := readJSONL(t, filepath.Join(dir, "skipped.jsonl"))[0]; r.SourceKey() != key || r.Reason != "same" {
		t.Errorf("skipped row %+v", r)
	}
	copied := readCSV(t, filepath.Join(dir, "copied.csv"))
	if k, _ := DecodeKey(copied[1][0]); k != multi {
		t.Errorf("multi-line key %q", copied[1][0])
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "copied.csv")); len(readCSV(t, filepath.Join(dir, "copied.csv"))) != 2 || countLines(data) != 2 {
		t.Errorf("copied.csv is not one line per record: %q", data)
	}
}

func countLines(b []byte) (n int) {
	for _, c := range b {
		if c == '\n' {
			n++
		}
	}
	return n
}

func TestTornLineIsCut(t *testing.T) {
	dir := t.TempDir()
	w, _ := Open(dir)
	w.Add(transfer.Result{Object: transfer.Object{Key: "a"}, Code: transfer.CheckFailed})
	w.Close()
	for _, f := range []string{"failed.csv", "failed.jsonl"} {
		fh, _ := os.OpenFile(filepath.Join(dir, f), os.O_WRONLY|os.O_APPEND, 0)
		fh.WriteString(`"b,{"key":"b`)
		fh.Close()
	}
	w, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	w.Add(transfer.Result{Object: transfer.Object{Key: "c"}, Code: transfer.CheckFailed})
	w.Close()
	if recs := readCSV(t, filepath.Join(dir, "failed.csv")); len(recs) != 3 || recs[2][0] != "c" {
		t.Errorf("records %q", recs)
	}
	if rows := readJSONL(t, filepath.Join(dir, "failed.jsonl")); len(rows) != 2 || rows[1].Key != "c" {
		t.Errorf("rows %+v", rows)
	}
}

func TestConcurrentAdd(t *testing.T) {
	dir := t.TempDir()
	w, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				code := transfer.Codes[(g+i)%len(transfer.Codes)]
				key := fmt.Sprintf("g%d/%04d,\"x\"", g, i)
				if err := w.Add(transfer.Result{Object: transfer.Object{Key: key}, Code: code, Detail: "d"}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Add(transfer.Result{Code: transfer.Succeed}); err == nil {
		t.Error("Add after Close succeeded")
	}
	var total int
	for _, name := range Names {
		csvRows := len(readCSV(t, filepath.Join(dir, name+".csv"))) - 1
		jsonRows := len(readJSONL(t, filepath.Join(dir, name+".jsonl")))
		if csvRows != jsonRows {
			t.Errorf("%s: %d csv rows, %d jsonl rows", name, csvRows, jsonRows)
		}
		total += jsonRows
	}
	if total != 8*200 {
		t.Errorf("%d rows, want %d", total, 8*200)
	}
}

// TestVerifiedRowNamesTheCheck: verified.csv ends with the check an
// audit passed.
func TestVerifiedRowNamesTheCheck(t *testing.T) {
	dir := t.TempDir()
	w, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	r := transfer.Result{Object: transfer.Object{Key: "a"}, Code: transfer.AuditOK, Size: 1, Check: transfer.CheckSizeOnly}
	if err := w.AddAt(r, time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	recs := readCSV(t, filepath.Join(dir, "verified.csv"))
	if len(recs) != 2 || recs[0][4] != "check" || recs[1][4] != "size-only" {
		t.Errorf("verified.csv %q", recs)
	}
}
