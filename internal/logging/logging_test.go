package logging

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// logFiles returns the files of dir with their sizes.
func logFiles(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = info.Size()
	}
	return out
}

func TestRotationKeepsAtMostMaxFilesEachWithinSize(t *testing.T) {
	for _, c := range []struct {
		name            string
		maxSize         int64
		maxFiles        int
		records, length int
		wantFiles       []string
	}{
		{"no rotation needed", 1000, 3, 5, 100, []string{"w.log"}},
		{"one rotation", 1000, 3, 15, 100, []string{"w.log", "w.log.1"}},
		{"many rotations keep three", 1000, 3, 100, 100, []string{"w.log", "w.log.1", "w.log.2", "w.log.3"}},
		{"keep one", 250, 1, 50, 100, []string{"w.log", "w.log.1"}},
		{"uneven records", 333, 2, 40, 77, []string{"w.log", "w.log.1", "w.log.2"}},
		{"never rotates", 0, 3, 50, 100, []string{"w.log"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			f, err := OpenRotating(filepath.Join(dir, "w.log"), c.maxSize, c.maxFiles)
			if err != nil {
				t.Fatal(err)
			}
			var last string
			for i := range c.records {
				last = fmt.Sprintf("%0*d\n", c.length-1, i)
				if n, err := f.Write([]byte(last)); err != nil || n != c.length {
					t.Fatalf("write %d: %d, %v", i, n, err)
				}
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			files := logFiles(t, dir)
			var names []string
			for name, size := range files {
				names = append(names, name)
				if c.maxSize > 0 && size > c.maxSize {
					t.Errorf("%s is %d bytes, over %d", name, size, c.maxSize)
				}
			}
			sort.Strings(names)
			if strings.Join(names, " ") != strings.Join(c.wantFiles, " ") {
				t.Errorf("files %v, want %v", names, c.wantFiles)
			}
			data, err := os.ReadFile(filepath.Join(dir, "w.log"))
			if err != nil || !strings.HasSuffix(string(data), last) {
				t.Errorf("the current file does not end with the last record: %q %v", data, err)
			}
			// Records are whole and in order across the files kept.
			var all []string
			for i := c.maxFiles; i >= 1; i-- {
				if d, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("w.log.%d", i))); err == nil {
					all = append(all, strings.Split(strings.TrimSuffix(string(d), "\n"), "\n")...)
				}
			}
			all = append(all, strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")...)
			for i := 1; i < len(all); i++ {
				if len(all[i]) != c.length-1 || all[i] <= all[i-1] {
					t.Fatalf("records out of order or cut: %q after %q", all[i], all[i-1])
				}
			}
		})
	}
}

func TestRotationAppendsToExistingFileAndCutsHugeRecords(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.log")
	if err := os.WriteFile(path, bytes.Repeat([]byte("x"), 90), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := OpenRotating(path, 100, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write([]byte("0123456789abc\n")); err != nil { // 90+14 > 100: rotates
		t.Fatal(err)
	}
	huge := append(bytes.Repeat([]byte("y"), 500), '\n')
	if n, err := f.Write(huge); err != nil || n != len(huge) {
		t.Fatalf("huge write: %d %v", n, err)
	}
	files := logFiles(t, dir)
	if want := map[string]int64{"m.log": 100, "m.log.1": 14, "m.log.2": 90}; fmt.Sprint(files) != fmt.Sprint(want) {
		t.Errorf("files %v, want %v", files, want)
	}
	cur, _ := os.ReadFile(path)
	if len(cur) != 100 || cur[99] != '\n' || !bytes.HasPrefix(cur, []byte("yyyy")) {
		t.Errorf("the huge record is not cut to the limit: %d bytes %q...", len(cur), cur[:min(len(cur), 10)])
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("late\n")); !errors.Is(err, os.ErrClosed) {
		t.Errorf("write after close: %v", err)
	}
}

func TestConcurrentWritesRotateSafely(t *testing.T) {
	dir := t.TempDir()
	f, err := OpenRotating(filepath.Join(dir, "c.log"), 4096, 3)
	if err != nil {
		t.Fatal(err)
	}
	logger := New(f, Options{Level: "debug"})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				logger.Info("record", "g", g, "i", i)
			}
		})
	}
	wg.Wait()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	files := logFiles(t, dir)
	if len(files) != 4 {
		t.Errorf("files %v, want c.log and 3 rotated", files)
	}
	for name, size := range files {
		if size > 4096 {
			t.Errorf("%s is %d bytes", name, size)
		}
	}
}

func TestSecretKey(t *testing.T) {
	for key, want := range map[string]bool{
		"password": true, "srcSecretKey": true, "accessKeySecret": true, "natsToken": true, "token": true,
		"credentials": true, "Authorization": true, "x-amz-signature": true, "private_key": true,
		"srcAccessKey": false, "job": false, "err": false, "worker": false, "bytes": false,
	} {
		if got := SecretKey(key); got != want {
			t.Errorf("SecretKey(%q) = %v", key, got)
		}
	}
}

func TestMaskText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain text stays", "plain text stays"},
		{"Authorization: OSS LTAIabc:c2lnbmF0dXJl", "Authorization: ***"},
		{`header authorization=AWS4-HMAC-SHA256 Credential=AKID/2024, Signature=deadbeef`, "header authorization=***"},
		{"GET https://b.oss.example.com/k?OSSAccessKeyId=LTAI&Expires=1&Signature=abc%2B", "GET https://b.oss.example.com/k?OSSAccessKeyId=***&Expires=1&Signature=***"},
		{"https://s3/k?X-Amz-Credential=AKID%2F&X-Amz-Signature=f00&X-Amz-Security-Token=tok", "https://s3/k?X-Amz-Credential=***&X-Amz-Signature=***&X-Amz-Security-Token=***"},
		{"https://acct.blob.core.windows.net/c?sv=2020&sig=abc%3D", "https://acct.blob.core.windows.net/c?sv=2020&sig=***"},
		{"srcSecretKey=hunter2 next", "srcSecretKey=*** next"},
		{"password:hunter2", "password:***"},
		{`{"accessKeySecret":"s3cr3t","id":"x"}`, `{"accessKeySecret":"***","id":"x"}`},
		{"invalid token: expired", "invalid token: expired"},
	} {
		if got := MaskText(c.in); got != c.want {
			t.Errorf("MaskText(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

type secretStringer struct{}

func (secretStringer) String() string { return "url?Signature=abc" }

func TestMaskHandler(t *testing.T) {
	for _, c := range []struct {
		name     string
		log      func(*slog.Logger)
		want     []string
		mustMiss []string
	}{
		{"secret keys", func(l *slog.Logger) {
			// A number no timestamp holds: the line's time once had "42".
			l.Info("config", "srcSecretKey", "hunter2", "password", 987654321987, "accessKeySecret", []byte("raw"), "job", "j1")
		}, []string{"srcSecretKey=***", "password=***", "accessKeySecret=***", "job=j1"}, []string{"hunter2", "987654321987", "raw"}},
		{"values", func(l *slog.Logger) {
			l.Warn("request failed", "err", errors.New("PUT k: Authorization: OSS ak:sig"), "url", "https://h/k?Signature=zz", "obj", secretStringer{})
		}, []string{`err="PUT k: Authorization: ***"`, `url="https://h/k?Signature=***"`, `obj="url?Signature=***"`}, []string{"ak:sig", "zz", "=abc"}},
		{"message", func(l *slog.Logger) { l.Error("token=abc123 refused") }, []string{"token=***"}, []string{"abc123"}},
		{"with attrs and groups", func(l *slog.Logger) {
			l.With("token", "t0k3n").WithGroup("g").Info("x", slog.Group("creds", "secret", "s3"), "n", 1)
		}, []string{"token=***", "g.creds.secret=***", "g.n=1"}, []string{"t0k3n", "s3"}},
		{"level", func(l *slog.Logger) { l.Debug("hidden debug") }, nil, []string{"hidden debug"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			c.log(New(&buf, Options{Level: "info"}))
			out := buf.String()
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("no %q in %q", w, out)
				}
			}
			for _, m := range c.mustMiss {
				if strings.Contains(out, m) {
					t.Errorf("%q leaked in %q", m, out)
				}
			}
		})
	}
}

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]slog.Level{"debug": slog.LevelDebug, "WARN": slog.LevelWarn, "error": slog.LevelError, "": slog.LevelInfo, "loud": slog.LevelInfo} {
		if got := ParseLevel(in); got != want {
			t.Errorf("ParseLevel(%q) = %v", in, got)
		}
	}
}

func TestOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "logs", "tracker.log")
	logger, closer, err := Open(path, Options{Level: "warn", MaxSize: 1 << 20, MaxFiles: 2})
	if err != nil {
		t.Fatal(err)
	}
	logger.Info("not written")
	logger.Warn("written", "natsToken", "abc")
	if err := closer.Close(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if s := string(data); strings.Contains(s, "not written") || !strings.Contains(s, "msg=written natsToken=***") {
		t.Fatalf("log %q", s)
	}
}
