package youpaitest

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestSignDocExample(t *testing.T) {
	// The worked example of UPYUN's "签名认证" documentation.
	got := Sign("password123", "PUT", "/upyun-temp/demo.jpg", "Wed, 09 Nov 2016 14:26:58 GMT", "7ac66c0f148de9519b8bd264312c4d64")
	if want := "YUaAZX+WNAcJdNGHS5SBlITME5A="; got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
}

// get sends a GET with Basic authentication (or none) and extra headers.
func get(t *testing.T, s *Server, path string, auth bool, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	if auth {
		req.SetBasicAuth(s.Operator, s.Password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func TestServerDialect(t *testing.T) {
	s := New(t)
	s.CreateBucket(t, "b")
	s.Put(t, "b", "dir/one.txt", []byte("1"), nil)
	s.Put(t, "b", "dir/two.txt", []byte("22"), nil)
	s.Mkdir(t, "b", "dir/sub/")

	resp, body := get(t, s, "/b/dir/", false, nil)
	if resp.StatusCode != 401 || !strings.Contains(body, "40100004") {
		t.Fatalf("unauthenticated list: %d %s", resp.StatusCode, body)
	}
	resp, body = get(t, s, "/b/dir/", true, http.Header{"X-List-Limit": {"2"}})
	iter := resp.Header.Get("x-upyun-list-iter")
	if resp.StatusCode != 200 || len(strings.Split(body, "\n")) != 2 || iter == "" || iter == EndIter {
		t.Fatalf("text list page: %d %q iter %q", resp.StatusCode, body, iter)
	}
	seen := map[string]string{}
	for line := range strings.SplitSeq(body, "\n") {
		f := strings.Split(line, "\t")
		seen[f[0]] = f[1] + " " + f[2]
	}
	resp, body = get(t, s, "/b/dir", true, http.Header{"X-List-Iter": {iter}, "Accept": {"application/json"}})
	var doc struct {
		Files []struct {
			Name, Type string
			Length     int64
		}
		Iter string
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil || len(doc.Files) != 1 || doc.Iter != EndIter ||
		resp.Header.Get("x-upyun-list-iter") != EndIter {
		t.Fatalf("JSON last page: %s (%v)", body, err)
	}
	typ := map[string]string{"folder": "F", "text/plain; charset=utf-8": "N"}[doc.Files[0].Type]
	seen[doc.Files[0].Name] = fmt.Sprintf("%s %d", typ, doc.Files[0].Length)
	if want := map[string]string{"one.txt": "N 1", "two.txt": "N 2", "sub": "F 0"}; !maps.Equal(seen, want) {
		t.Fatalf("listed %v, want %v", seen, want)
	}
	resp, body = get(t, s, "/b/dir/", true, http.Header{"X-List-Order": {"sideways"}})
	if resp.StatusCode != 403 || !strings.Contains(body, "40300014") {
		t.Fatalf("bad order: %d %s", resp.StatusCode, body)
	}
	s.ExpireIters()
	resp, _ = get(t, s, "/b/dir/", true, http.Header{"X-List-Iter": {iter}})
	if resp.StatusCode != 400 || s.Count("iter-refused") != 1 {
		t.Fatalf("stale cursor: %d", resp.StatusCode)
	}
	resp, body = get(t, s, "/b/dir/two.txt", true, http.Header{"Range": {"bytes=1-"}})
	if resp.StatusCode != 206 || body != "2" || resp.Header.Get("Content-MD5") == "" {
		t.Fatalf("ranged get: %d %q %v", resp.StatusCode, body, resp.Header)
	}
}

func TestServerWriteRules(t *testing.T) {
	s := New(t)
	s.CreateBucket(t, "b")
	s.Put(t, "b", "file", []byte("x"), nil)
	ctx := t.Context()
	if err := s.Do(ctx, http.MethodPut, "b", "file/child", []byte("y"), nil); err == nil || !strings.Contains(err.Error(), "40600001") {
		t.Fatalf("put through a file: %v", err)
	}
	s.Put(t, "b", "d/x", []byte("x"), nil)
	if err := s.Do(ctx, http.MethodPut, "b", "d", []byte("y"), nil); err == nil || !strings.Contains(err.Error(), "40600001") {
		t.Fatalf("put onto a folder: %v", err)
	}
	if err := s.Do(ctx, http.MethodDelete, "b", "d", nil, nil); err == nil || !strings.Contains(err.Error(), "40300005") {
		t.Fatalf("delete of a full folder: %v", err)
	}
	if err := s.Do(ctx, http.MethodPut, "b", "bad/../x", []byte("y"), nil); err == nil {
		t.Fatal("put with a .. element succeeded")
	}
	if err := s.Do(ctx, http.MethodGet, "nobucket", "", nil, nil); err == nil || !strings.Contains(err.Error(), "40100012") {
		t.Fatalf("unknown bucket: %v", err)
	}
	s.SetClockOffset(-time.Hour)
	resp, body := get(t, s, "/b/", true, nil)
	if resp.StatusCode != 401 || !strings.Contains(body, "40100002") {
		t.Fatalf("skewed date: %d %s", resp.StatusCode, body)
	}
}
