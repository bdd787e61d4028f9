package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/testenv"
	"github.com/ossimport/ossimport/internal/tracker"
)

// TestLiveProgressAndLiveness: while one large object is copied under a
// throughput cap, the job's bytes in `stat --json` and the dashboard's
// /api/jobs move several times before the object is done, and the
// worker never shows lost, at the default progress and heartbeat
// settings (taskAckWait at its default 300 s).
func TestLiveProgressAndLiveness(t *testing.T) {
	if testing.Short() {
		t.Skip("a minute-long throttled job")
	}
	const size = 160 << 20 // at 3 MiB/s: about a minute, four heartbeat TTLs
	web := testenv.LoopbackPort(t)
	h, d := newS3Home(t, fmt.Sprintf("taskAckWait=300\nworkerMaxThroughput(KB/s)=3072\nhttpListen=127.0.0.1:%d\n", web),
		"multipartUploadThreshold=8m\nmultipartUploadPartSize=8m\nuploadThreadNumPerLargeFile=2\n")
	files := h.writeFiles(h.src, 0, 0, size)
	h.mustConsole("", "submit", h.job)
	h.mustConsole("Start import service completed.\n", "start")

	type sample struct {
		stat, api int64
		lost      []string
	}
	read := func() (sample, bool) {
		var s sample
		out := h.console("stat", "--json", "--with-workers")
		var view struct {
			Jobs    []tracker.JobStatus    `json:"jobs"`
			Workers []tracker.WorkerStatus `json:"workers"`
		}
		if out.code != 0 || json.Unmarshal([]byte(out.stdout), &view) != nil || len(view.Jobs) != 1 {
			return s, false
		}
		if view.Jobs[0].Objects.Done > 0 {
			return s, false // the object is done
		}
		s.stat = view.Jobs[0].Bytes.Done
		for _, w := range view.Workers {
			if !w.Alive {
				s.lost = append(s.lost, w.Name)
			}
		}
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/api/jobs", web))
		if err != nil {
			return s, true
		}
		defer resp.Body.Close()
		var api struct {
			Jobs []tracker.JobStatus `json:"jobs"`
		}
		if json.NewDecoder(resp.Body).Decode(&api) == nil && len(api.Jobs) == 1 {
			s.api = api.Jobs[0].Bytes.Done
		}
		return s, true
	}
	var statMoves, apiMoves int
	var last sample
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		s, running := read()
		if !running {
			break
		}
		if len(s.lost) > 0 {
			t.Errorf("worker shown lost while it copies: %v%s", s.lost, h.logs())
		}
		if s.stat > last.stat {
			statMoves++
			last.stat = s.stat
		}
		if s.api > last.api {
			apiMoves++
			last.api = s.api
		}
		time.Sleep(500 * time.Millisecond)
	}
	if statMoves < 3 || apiMoves < 3 {
		t.Errorf("before the object was done, stat's bytes moved %d times and /api/jobs' %d times; want at least 3 each", statMoves, apiMoves)
	}
	h.waitState(failJob, "Succeed", 5*time.Minute)
	d.verify(t, map[string][]byte{filepath.ToSlash("big/large.bin"): files["big/large.bin"]})
	d.noUploadsLeft(t)
	h.mustConsole("Stop import service completed.\n", "stop")
}
