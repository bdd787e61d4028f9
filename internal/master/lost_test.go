package master_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/bus/bustest"
	"github.com/ossimport/ossimport/internal/master"
	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/report"
	"github.com/ossimport/ossimport/internal/testenv"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/workdir"
)

// loseStore stops everything the cluster runs, deletes its NATS store
// (the store, its token and its key) and starts a new, empty server.
func (f *failover) loseStore() {
	f.t.Helper()
	f.cancel()
	f.wg.Wait()
	f.srv.Shutdown()
	work := string(f.dir)
	for _, p := range []string{filepath.Join(work, "nats"), filepath.Join(work, "nats.token")} {
		if err := os.RemoveAll(p); err != nil {
			f.t.Fatal(err)
		}
	}
	f.srv = bustest.Server(f.t, work)
	f.ctx, f.cancel = context.WithCancel(f.t.Context())
}

// reportedOnce checks that each of the job's objects is in exactly one
// report row (copied, skipped or verified), and none failed.
func (f *failover) reportedOnce(dir workdir.Dir, job string) {
	f.t.Helper()
	seen := map[string]int{}
	for _, name := range report.Names {
		file, err := os.Open(filepath.Join(dir.Reports(job), name+".csv"))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			f.t.Fatal(err)
		}
		rows, err := csv.NewReader(file).ReadAll()
		file.Close()
		if err != nil {
			f.t.Fatalf("%s.csv: %v", name, err)
		}
		for _, row := range rows[1:] {
			if name == report.Failed {
				f.t.Errorf("%s failed: %v", row[0], row)
			}
			seen[row[0]]++
		}
	}
	for key := range f.files {
		if seen[key] != 1 {
			f.t.Errorf("%s is in %d report rows, want 1", key, seen[key])
		}
	}
	if len(seen) != len(f.files) {
		t := len(seen) - len(f.files)
		f.t.Errorf("the reports hold %d keys that are not objects of the job", t)
	}
}

// TestLostNATSStoreIsRestoredFromTheView: the service is stopped
// part-way through a job (scan held after 3 of 6 pages, one task held on
// an object), its NATS store is deleted, and the service started on a
// new, empty one. The master restores the job from the working
// directory: the spec from the kept job file, the scan checkpoint, the
// unfinished task queued again; the job ends Succeed with every object
// at the destination, in one report row each, and every task counted
// once (no task planned again, none copied twice).
func TestLostNATSStoreIsRestoredFromTheView(t *testing.T) {
	f := newFailover(t, 60)
	f.src.page = "k029"
	f.src.key = "k012"
	f.startService("a", f.dir)
	f.startWorker("10.0.0.1")
	f.submit("lost_job", "")
	testenv.Wait(t, 60*time.Second, "5 of the first 6 tasks to succeed", func() bool {
		st, err := tracker.ReadStatus(f.dir, "lost_job")
		return err == nil && st.Succeed == 5 && st.Pending+st.Dispatched == 1
	})
	before, _ := tracker.ReadStatus(f.dir, "lost_job")
	if before.ScanFinished {
		t.Fatal("the scan finished while it was held")
	}

	f.loseStore()
	close(f.src.release)
	close(f.src.listGate)
	f.startService("a", f.dir)
	f.startWorker("10.0.0.2")
	st := f.status(f.dir, "lost_job", tracker.Succeed)
	f.check(st, 12)
	f.reportedOnce(f.dir, "lost_job")
	if _, err := os.Stat(filepath.Join(string(f.dir), "master", master.LostFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the restore is still marked as to do: %v", err)
	}
	// The restored job is known to JetStream again: its spec and its
	// journal, which the view now follows.
	probe := f.connect("probe")
	if _, err := probe.Jobs().Get(f.ctx, "lost_job"); err != nil {
		t.Errorf("the job's spec was not restored: %v", err)
	}
	if end, err := probe.JournalEnd(f.ctx); err != nil || end == 0 {
		t.Errorf("the new journal holds %d entries (%v), want the restored task and the new ones", end, err)
	}
	doc, ok := tracker.ReadCounters(f.dir, "lost_job")
	if !ok || doc.Succeed != 12 || doc.Objects != 60 || doc.Finished.Copied+doc.Finished.Skipped != 60 {
		t.Errorf("counters %+v (read %v); want 12 tasks, 60 objects each finished once", doc.Tally, ok)
	}
}

// lockedBuffer is a log destination safe for concurrent use.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startLogged runs the cluster's master with its log in logs.
func (f *failover) startLogged(name string, logs *lockedBuffer) *service {
	f.t.Helper()
	ctx, cancel := context.WithCancel(f.ctx)
	s := &service{dir: f.dir, b: f.connect(name), cancel: cancel, done: make(chan struct{})}
	m, err := master.New(master.Options{Dir: f.dir, Bus: s.b, Settings: master.SettingsFrom(f.sys), Poll: 100 * time.Millisecond, Resolve: f.resolve, Name: name,
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		f.t.Fatal(err)
	}
	f.wg.Go(func() { defer close(s.done); _ = m.Run(ctx) })
	return s
}

// submitFile submits a job as the console does: its config and the
// absolute path of its file.
func (f *failover) submitFile(name, file, cfg string) {
	f.t.Helper()
	data, _ := json.Marshal(protocol.Job{Name: name, Config: []byte(cfg), File: file, Submitted: time.Now()})
	if err := f.connect("console").CreateJob(f.ctx, name, data); err != nil {
		f.t.Fatal(err)
	}
}

// TestLostNATSStoreWithMaskedSecretsNeedsTheJobFile: a job whose kept
// copy has its secrets masked is restored from the file it was submitted
// from; when that file is gone the restore says so and is tried again
// at the next start.
func TestLostNATSStoreWithMaskedSecretsNeedsTheJobFile(t *testing.T) {
	f := newFailover(t, 10)
	close(f.src.listGate)
	f.src.key = "k009"
	jobFile := filepath.Join(t.TempDir(), "secret_job.cfg")
	cfg := fmt.Sprintf("jobName=secret_job\nsrcType=local\nsrcPrefix=%s/\ndestType=local\ndestBucket=%s\ntaskObjectCountLimit=5\ndestAccessKey=AKID\ndestSecretKey=very-secret\n", f.cluster.src, f.cluster.dest)
	if err := os.WriteFile(jobFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	f.startService("a", f.dir)
	f.startWorker("10.0.0.1")
	f.submitFile("secret_job", jobFile, cfg)
	testenv.Wait(t, 60*time.Second, "the first task to succeed", func() bool {
		st, err := tracker.ReadStatus(f.dir, "secret_job")
		return err == nil && st.Succeed == 1
	})
	f.loseStore()
	moved := jobFile + ".away"
	if err := os.Rename(jobFile, moved); err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	a := f.startLogged("a", logs)
	lost := filepath.Join(string(f.dir), "master", master.LostFile)
	testenv.Wait(t, 30*time.Second, "the restore to say what it needs", func() bool {
		return strings.Contains(logs.String(), "put the job file back there") && strings.Contains(logs.String(), jobFile)
	}, logs.String)
	if _, err := os.Stat(lost); err != nil {
		t.Fatalf("the restore to do is not recorded: %v", err)
	}
	if strings.Contains(logs.String(), "very-secret") {
		t.Error("the log holds the job's secret")
	}
	probe := f.connect("probe")
	if _, err := probe.Jobs().Get(f.ctx, "secret_job"); !errors.Is(err, bus.ErrNotFound) {
		t.Fatalf("a job restored without its credentials: %v", err)
	}
	a.stop()

	if err := os.Rename(moved, jobFile); err != nil {
		t.Fatal(err)
	}
	close(f.src.release)
	f.startService("a", f.dir)
	f.startWorker("10.0.0.2")
	f.status(f.dir, "secret_job", tracker.Succeed)
	var pj protocol.Job
	data, err := probe.Jobs().Get(f.ctx, "secret_job")
	if err == nil {
		err = json.Unmarshal(data, &pj)
	}
	if err != nil || string(pj.Config) != cfg || pj.File != jobFile {
		t.Errorf("the restored spec %q from %q is not the job file's (%v)", pj.Config, pj.File, err)
	}
	if _, err := os.Stat(lost); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the restore is still marked as to do: %v", err)
	}
}
