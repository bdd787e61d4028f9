//go:build unix

package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/dashboard"
	"github.com/ossimport/ossimport/internal/metrics"
	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// Size of the finished job the status benchmarks read: 1000 tasks of
// 1000 objects.
const (
	benchTasks   = 1000
	benchObjects = 1000
)

var (
	millionOnce sync.Once
	millionDir  workdir.Dir
	millionErr  error
	rebuildTook time.Duration
)

// millionJob builds, once per process, a working directory holding one
// finished job of benchTasks x benchObjects objects, and its counters
// file (rebuilt by a tracker.Ledger from the folders, as a master does
// on its first start). The folder is removed by cleanupMillion.
func millionJob(b *testing.B) workdir.Dir {
	b.Helper()
	millionOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ossimport-status-bench-")
		if err != nil {
			millionErr = err
			return
		}
		millionDir = workdir.Dir(dir)
		millionErr = writeMillion(millionDir)
		if millionErr != nil {
			return
		}
		l := tracker.NewLedger(millionDir, nil)
		start := time.Now()
		if millionErr = l.Open(); millionErr == nil {
			rebuildTook = time.Since(start)
			millionErr = l.Close()
		}
	})
	if millionErr != nil {
		b.Fatal(millionErr)
	}
	return millionDir
}

// writeMillion writes the finished job's task folders as Apply leaves
// them: TASK, STATUS and DONE.
func writeMillion(dir workdir.Dir) error {
	const job = "million"
	for i := range benchTasks {
		id := fmt.Sprintf("%032X_1700000000000", i)
		t := plan.Task{ID: id, Job: job, Objects: make([]transfer.Object, benchObjects)}
		for j := range t.Objects {
			t.Objects[j] = transfer.Object{Key: fmt.Sprintf("data/d%03d/f%07d.bin", i, j), Size: 1024, ModTime: time.Unix(1_700_000_000, 0)}
			t.Bytes += 1024
		}
		var c record.Counters
		for _, o := range t.Objects {
			c.Add(transfer.Result{Object: o, Code: transfer.Succeed, Size: o.Size, Bytes: o.Size})
		}
		c.Objects, c.Bytes = int64(len(t.Objects)), t.Bytes
		tdir := dir.Task(job, workdir.Succeed, "", id)
		if err := os.MkdirAll(tdir, 0o755); err != nil {
			return err
		}
		task, _ := json.Marshal(t)
		done, _ := json.Marshal(c)
		for name, data := range map[string][]byte{workdir.TaskFile: task, workdir.DoneFile: done, workdir.StatusFile: []byte(record.Completed + "\n")} {
			if err := os.WriteFile(filepath.Join(tdir, name), data, 0o644); err != nil {
				return err
			}
		}
	}
	return workdir.SaveCheckpoint(dir.Checkpoint(job), &plan.Checkpoint{Job: job, Done: true,
		Stats: plan.Stats{Tasks: benchTasks, Planned: benchTasks * benchObjects}})
}

func TestMain(m *testing.M) {
	code := m.Run()
	if millionDir != "" {
		_ = os.RemoveAll(string(millionDir))
	}
	os.Exit(code)
}

// BenchmarkReadStatusMillion reads the status of a finished 1M-object
// job: from the counters file the master keeps, and (scan) from the task
// folders as before, reading every TASK and DONE file.
func BenchmarkReadStatusMillion(b *testing.B) {
	dir := millionJob(b)
	b.Logf("rebuilding the counters from the folders took %s", rebuildTook)
	b.Run("counters", func(b *testing.B) {
		for b.Loop() {
			st, err := tracker.ReadStatus(dir, "million")
			if err != nil || st.State != tracker.Succeed || st.Objects.Done != benchTasks*benchObjects {
				b.Fatalf("status %+v (%v)", st, err)
			}
		}
	})
	b.Run("scan", func(b *testing.B) {
		path := filepath.Join(dir.Job("million"), workdir.CountersFile)
		data, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		_ = os.Remove(path)
		defer os.WriteFile(path, data, 0o644)
		for b.Loop() {
			st, err := tracker.ReadStatus(dir, "million")
			if err != nil || st.Objects.Done != benchTasks*benchObjects {
				b.Fatalf("status %+v (%v)", st, err)
			}
		}
	})
}

// BenchmarkIdleMaster measures the CPU an idle service holding the
// finished 1M-object job spends on its periodic work, simulated for one
// minute per iteration at the service's periods: the ledger's tick
// (every FlushEvery), the dashboard's throughput sampler (every
// DefaultSampleEvery, reading every job's status) and a metrics scrape
// of the task counts every 15 s. It reports the CPU milliseconds per
// second of wall time (getrusage).
func BenchmarkIdleMaster(b *testing.B) {
	dir := millionJob(b)
	l := tracker.NewLedger(dir, nil)
	if err := l.Open(); err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	h, err := dashboard.New(dashboard.Options{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	tasks := metrics.WorkdirTasks(dir)
	const minute = time.Minute
	var cpu time.Duration
	for b.Loop() {
		before := rusage(b)
		for tick := time.Duration(0); tick < minute; tick += tracker.FlushEvery {
			l.Tick()
			if tick%dashboard.DefaultSampleEvery == 0 {
				h.Sample()
			}
			if tick%(15*time.Second) == 0 {
				tasks()
			}
		}
		cpu += rusage(b) - before
	}
	b.ReportMetric(float64(cpu.Microseconds())/1000/(float64(b.N)*minute.Seconds()), "cpu-ms/wall-s")
}

// rusage is the process's CPU time so far (user and system).
func rusage(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
