package youpai_test

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/youpai"
)

// liveVars configure TestLive; OSSIMPORT_TEST_UPYUN_ENDPOINT (default
// http://v0.api.upyun.com) and OSSIMPORT_TEST_UPYUN_PREFIX are optional.
var liveVars = []string{"OSSIMPORT_TEST_UPYUN_BUCKET", "OSSIMPORT_TEST_UPYUN_OPERATOR", "OSSIMPORT_TEST_UPYUN_PASSWORD"}

// TestLive reads a real UPYUN service: it lists a page, stats and reads
// the first file, and checks that a wrong password is refused. UPYUN is a
// source only, so nothing is written.
func TestLive(t *testing.T) {
	for _, v := range liveVars {
		if os.Getenv(v) == "" {
			t.Skipf("live UPYUN test: set %s (and optionally OSSIMPORT_TEST_UPYUN_ENDPOINT, OSSIMPORT_TEST_UPYUN_PREFIX) "+
				"to read a service that holds at least one file", strings.Join(liveVars, ", "))
		}
	}
	spec := storage.Spec{Type: "youpai", Endpoint: os.Getenv("OSSIMPORT_TEST_UPYUN_ENDPOINT"), Bucket: os.Getenv("OSSIMPORT_TEST_UPYUN_BUCKET"),
		AccessKey: os.Getenv("OSSIMPORT_TEST_UPYUN_OPERATOR"), SecretKey: os.Getenv("OSSIMPORT_TEST_UPYUN_PASSWORD")}
	st, err := youpai.New(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	page, err := st.List(t.Context(), storage.ListOptions{Prefix: os.Getenv("OSSIMPORT_TEST_UPYUN_PREFIX"), Limit: 10})
	if err != nil || len(page.Objects) == 0 {
		t.Fatalf("list: %d objects, %v", len(page.Objects), err)
	}
	obj := page.Objects[0]
	info, err := st.Stat(t.Context(), obj.Key)
	if err != nil || info.Size != obj.Size {
		t.Fatalf("stat %q: size %d (listed %d), %v", obj.Key, info.Size, obj.Size, err)
	}
	n := min(info.Size, 1024)
	rc, err := st.Open(t.Context(), obj.Key, 0, n)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || int64(len(data)) != n {
		t.Fatalf("read %q: %d bytes, want %d (%v)", obj.Key, len(data), n, err)
	}
	spec.SecretKey += "-wrong"
	bad, _ := youpai.New(t.Context(), spec)
	if _, err := bad.List(t.Context(), storage.ListOptions{Limit: 1}); !errors.Is(err, storage.ErrAccessDenied) {
		t.Fatalf("wrong password: %v, want ErrAccessDenied", err)
	}
}
