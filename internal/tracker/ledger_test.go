package tracker

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// filer files tasks the way the master does, calling the ledger's hooks
// around each change.
type filer struct {
	t   *testing.T
	dir workdir.Dir
	l   *Ledger
}

func newFiler(t *testing.T, dir workdir.Dir) *filer {
	t.Helper()
	l := NewLedger(dir, nil)
	if err := l.Open(); err != nil {
		t.Fatal(err)
	}
	return &filer{t: t, dir: dir, l: l}
}

// task is a task of n objects of 100*(i+1) bytes.
func task(id string, n int) plan.Task {
	tk := plan.Task{ID: id, Job: "job"}
	for i := range n {
		o := transfer.Object{Key: fmt.Sprintf("%s/%d", id, i), Size: int64(100 * (i + 1))}
		tk.Objects = append(tk.Objects, o)
		tk.Bytes += o.Size
	}
	return tk
}

func (f *filer) plan(tk plan.Task) {
	f.t.Helper()
	_, fresh, err := FilePlanned(f.dir, tk)
	if err != nil {
		f.t.Fatal(err)
	}
	f.l.Planned(tk, fresh)
}

// progress is a worker's report of a running task, filed as onProgress
// does.
func (f *filer) progress(id, worker string, files, bytes int64) {
	f.t.Helper()
	defer f.l.Track("job", id)()
	if err := Dispatch(f.dir, "job", id, worker); err != nil {
		f.t.Fatal(err)
	}
	tk, err := record.ReadTask(f.taskDir(id))
	if err != nil {
		f.t.Fatal(err)
	}
	data, _ := json.Marshal(protocol.TaskProgress{Job: "job", TaskID: id, Worker: worker, FilesDone: files, BytesDone: bytes, BytesCopied: bytes,
		FilesTotal: int64(len(tk.Objects)), BytesTotal: tk.Bytes})
	if path, state, err := Locate(f.dir, "job", id); err == nil && state == workdir.Dispatched {
		if err := workdir.WriteFile(filepath.Join(path, workdir.ProgressFile), data); err != nil {
			f.t.Fatal(err)
		}
		f.l.Progress("job", id, worker, data)
	}
}

func (f *filer) taskDir(id string) string {
	path, _, err := Locate(f.dir, "job", id)
	if err != nil {
		f.t.Fatal(err)
	}
	return path
}

// result applies a worker's result with the codes of the task's first
// objects.
func (f *filer) result(tk plan.Task, worker string, codes ...transfer.Code) {
	f.t.Helper()
	f.resultOf(tk, worker, tk.Objects[:len(codes)], codes...)
}

func (f *filer) resultOf(tk plan.Task, worker string, objs []transfer.Object, codes ...transfer.Code) {
	f.t.Helper()
	res := protocol.TaskResult{Job: "job", TaskID: tk.ID, Worker: worker, Finished: time.Now()}
	for i, o := range objs {
		res.Objects = append(res.Objects, protocol.FromResult(transfer.Result{Object: o, Code: codes[i], Size: o.Size, Bytes: o.Size}, time.Now()))
	}
	defer f.l.Track("job", tk.ID)()
	if _, err := Apply(f.dir, res); err != nil {
		f.t.Fatal(err)
	}
}

// requeue retries a failed task as the master's retry does.
func (f *filer) requeue(id string) {
	f.t.Helper()
	defer f.l.Track("job", id)()
	if _, err := record.Requeue(f.dir.Task("job", workdir.Failed, "", id), f.dir.Task("job", workdir.Pending, "", id)); err != nil {
		f.t.Fatal(err)
	}
}

func codes(c transfer.Code, n int) []transfer.Code {
	out := make([]transfer.Code, n)
	for i := range out {
		out[i] = c
	}
	return out
}

// mixedJob files a job with every kind of event: succeeded, failed,
// retried, redelivered and duplicate results, a dead task, running and
// pending tasks.
func mixedJob(t *testing.T, f *filer) {
	t.Helper()
	ok, bad := transfer.Succeed, transfer.UploadFailed
	tasks := map[string]plan.Task{}
	for i := range 8 {
		tk := task(fmt.Sprintf("T%d", i+1), 3)
		tasks[tk.ID] = tk
		f.plan(tk)
	}
	f.plan(tasks["T1"]) // planned again after a crash
	// T1 succeeds; its result arrives twice.
	f.progress("T1", "w1", 0, 0)
	f.result(tasks["T1"], "w1", ok, ok, ok)
	f.result(tasks["T1"], "w1", ok, ok, ok)
	// T2 fails one object, is retried and succeeds.
	f.progress("T2", "w1", 1, 100)
	f.result(tasks["T2"], "w1", ok, bad, ok)
	f.requeue("T2")
	f.progress("T2", "w2", 0, 0)
	f.resultOf(tasks["T2"], "w2", tasks["T2"].Objects[1:2], ok)
	// T3 is redelivered to w2; w2's result, then w1's late one.
	f.progress("T3", "w1", 1, 100)
	f.progress("T3", "w2", 2, 300)
	f.result(tasks["T3"], "w2", ok, transfer.Skipped, ok)
	f.result(tasks["T3"], "w1", ok, ok, ok)
	// T4 is dead: the tracker fails all its objects.
	f.progress("T4", "w3", 0, 0)
	f.result(tasks["T4"], "tracker", bad, bad, bad)
	// T5 fails, and its result is applied again (a crash before the ack).
	f.result(tasks["T5"], "w1", ok, transfer.SizeNotMatch, ok)
	f.result(tasks["T5"], "w1", ok, transfer.SizeNotMatch, ok)
	// T6 fails, is retried and fails again.
	f.result(tasks["T6"], "w1", bad, ok, ok)
	f.requeue("T6")
	f.resultOf(tasks["T6"], "w2", tasks["T6"].Objects[:1], bad)
	// T7 runs; T8 waits.
	f.progress("T7", "w2", 1, 100)
	f.progress("T7", "w2", 2, 250)
}

// ledgerStatus is the status read from the counters file, and slowStatus
// the one counted from the task folders.
func ledgerStatus(t *testing.T, dir workdir.Dir) JobStatus {
	t.Helper()
	if _, ok := ReadCounters(dir, "job"); !ok {
		t.Fatal("no counters file")
	}
	st, err := ReadStatus(dir, "job")
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func slowStatus(t *testing.T, dir workdir.Dir) JobStatus {
	t.Helper()
	path := filepath.Join(dir.Job("job"), workdir.CountersFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	defer os.WriteFile(path, data, 0o644)
	st, err := ReadStatus(dir, "job")
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// sameStatus compares what both paths must agree on: everything but the
// throughput.
func sameStatus(t *testing.T, got, want JobStatus) {
	t.Helper()
	got.Throughput, got.ETA, want.Throughput, want.ETA = 0, 0, 0, 0
	if !maps.Equal(got.Counters.ByCode, want.Counters.ByCode) {
		t.Errorf("codes: ledger %v, rebuild %v", got.Counters.ByCode, want.Counters.ByCode)
	}
	got.Counters.ByCode, want.Counters.ByCode = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("status\nledger  %+v\nrebuild %+v", got, want)
	}
}

func TestLedgerMatchesRebuild(t *testing.T) {
	dir := workdir.Dir(t.TempDir())
	if err := workdir.SaveCheckpoint(dir.Checkpoint("job"), &plan.Checkpoint{Job: "job", Done: true, Stats: plan.Stats{Tasks: 8}}); err != nil {
		t.Fatal(err)
	}
	f := newFiler(t, dir)
	mixedJob(t, f)
	f.l.Tick()
	st := ledgerStatus(t, dir)
	sameStatus(t, st, slowStatus(t, dir))
	want := Tally{Pending: 1, Dispatched: 1, Succeed: 3, Failed: 3, Objects: 24, Bytes: 8 * 600}
	if st.Pending != want.Pending || st.Dispatched != want.Dispatched || st.Succeed != want.Succeed || st.Failed != want.Failed ||
		st.Objects.Total != want.Objects || st.Bytes.Total != want.Bytes {
		t.Errorf("counts %+v, want %+v", st, want)
	}
	// T1, T2 (after its retry) and T3 (one skipped) succeeded; T4 failed
	// its 3 objects, T5 and T6 one each; T7 runs with 2 objects done.
	if st.Counters.Copied != 3+3+2+2+2 || st.Counters.Skipped != 1 || st.FailedObjs != 3+1+1 || st.Objects.Done != 6*3+2 {
		t.Errorf("counters %+v, objects %+v", st.Counters, st.Objects)
	}
	if len(st.Running) != 1 || st.Running[0].ID != "T7" || st.Running[0].Bytes.Done != 250 {
		t.Errorf("running %+v", st.Running)
	}

	// The running task finishes, the pending one runs and finishes, the
	// failed ones are retried and succeed: the job succeeds, and the
	// last change is written at once, without a tick.
	f.result(task("T7", 3), "w2", ok3()...)
	f.progress("T8", "w1", 0, 0)
	f.result(task("T8", 3), "w1", ok3()...)
	for _, id := range []string{"T4", "T5", "T6"} {
		f.requeue(id)
		f.result(task(id, 3), "w1", ok3()...)
	}
	st = ledgerStatus(t, dir)
	if st.State != Succeed || st.Succeed != 8 || st.Objects.Done != 24 || st.FailedObjs != 0 || len(st.Running) != 0 {
		t.Fatalf("after the retries: %+v", st)
	}
	sameStatus(t, st, slowStatus(t, dir))
}

func ok3() []transfer.Code { return codes(transfer.Succeed, 3) }

func TestLedgerRebuiltAfterACrash(t *testing.T) {
	dir := workdir.Dir(t.TempDir())
	f := newFiler(t, dir)
	mixedJob(t, f)
	f.l.Tick()
	// The master crashes: what it filed after its last write is not in
	// the file, which has no clean mark.
	tk := task("T9", 2)
	if _, _, err := FilePlanned(dir, tk); err != nil {
		t.Fatal(err)
	}
	if doc, _ := ReadCounters(dir, "job"); doc.Clean || doc.tasks() != 8 {
		t.Fatalf("before the restart: clean %v, %d tasks", doc.Clean, doc.tasks())
	}
	g := newFiler(t, dir)
	st := ledgerStatus(t, dir)
	if st.Pending != 2 || st.Objects.Total != 26 {
		t.Fatalf("not rebuilt after the crash: %+v", st)
	}
	sameStatus(t, st, slowStatus(t, dir))

	// A graceful stop marks the file clean; the next start loads it as it
	// is, without reading the tasks, and takes the mark off.
	if err := g.l.Close(); err != nil {
		t.Fatal(err)
	}
	if doc, _ := ReadCounters(dir, "job"); !doc.Clean {
		t.Fatal("no clean mark after Close")
	}
	g.l.Planned(task("T10", 1), true) // after Close: not counted, the mark goes
	if doc, _ := ReadCounters(dir, "job"); doc.Clean {
		t.Fatal("a change after Close left the clean mark")
	}
	if err := g.l.write("job", g.l.jobs["job"], true); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir.Task("job", workdir.Pending, "", "T9")); err != nil {
		t.Fatal(err)
	}
	newFiler(t, dir)
	doc, _ := ReadCounters(dir, "job")
	if doc.Clean || doc.Pending != 2 {
		t.Fatalf("after a clean restart: clean %v, %d pending (the file, not the folders)", doc.Clean, doc.Pending)
	}
}

func TestLedgerRateAndETA(t *testing.T) {
	dir := workdir.Dir(t.TempDir())
	if err := workdir.SaveCheckpoint(dir.Checkpoint("job"), &plan.Checkpoint{Job: "job", Done: true, Stats: plan.Stats{Tasks: 2}}); err != nil {
		t.Fatal(err)
	}
	f := newFiler(t, dir)
	now := time.Unix(1_700_000_000, 0)
	f.l.now = func() time.Time { return now }
	a := plan.Task{ID: "A", Job: "job", Objects: []transfer.Object{{Key: "a", Size: 2000}}, Bytes: 2000}
	b := plan.Task{ID: "B", Job: "job", Objects: []transfer.Object{{Key: "b", Size: 1 << 20}}, Bytes: 1 << 20}
	f.plan(a)
	f.plan(b)
	// A moves 100 bytes a second in flight for 20 s and finishes; then B
	// moves 300 a second: the rate follows the last RateWindow only.
	for i := range 60 {
		switch {
		case i < 20:
			f.progress("A", "w1", 0, int64(i+1)*100)
		case i == 20:
			f.result(a, "w1", transfer.Succeed)
		default:
			f.progress("B", "w1", 0, int64(i-20)*300)
		}
		now = now.Add(time.Second)
		f.l.Tick()
	}
	st := ledgerStatus(t, dir)
	if st.Throughput < 290 || st.Throughput > 310 {
		t.Fatalf("throughput %.0f B/s, want about 300 (the last %s)", st.Throughput, RateWindow)
	}
	left := st.Bytes.Total - st.Bytes.Done
	if want := time.Duration(float64(left) / st.Throughput * float64(time.Second)).Round(time.Second); st.ETA != want || left <= 0 {
		t.Fatalf("ETA %s for %d bytes left, want %s", st.ETA, left, want)
	}
	// Idle for a window: no rate, no ETA.
	for range 40 {
		now = now.Add(time.Second)
		f.l.Tick()
	}
	if st = ledgerStatus(t, dir); st.Throughput != 0 || st.ETA != 0 {
		t.Fatalf("idle job: throughput %.0f, ETA %s", st.Throughput, st.ETA)
	}
}

func TestIncrementalJobNeverEnds(t *testing.T) {
	dir := workdir.Dir(t.TempDir())
	finished := time.UnixMilli(1_700_000_000_000)
	if err := workdir.SaveCheckpoint(dir.Checkpoint("job"), &plan.Checkpoint{Job: "job", Round: 2, Done: true, Finished: finished.UnixMilli()}); err != nil {
		t.Fatal(err)
	}
	f := newFiler(t, dir)
	f.l.Mode("job", true, time.Hour)
	tk := task("T1", 2)
	f.plan(tk)
	f.progress("T1", "w1", 0, 0)
	f.result(tk, "w1", transfer.Succeed, transfer.UploadFailed)
	st := ledgerStatus(t, dir)
	if st.State != Running || st.ScanFinished || !st.Incremental || st.Round != 2 ||
		!st.RoundEnded.Equal(finished) || !st.NextRound.Equal(finished.Add(time.Hour)) {
		t.Fatalf("incremental job: %+v", st)
	}
	data, _ := json.Marshal(st)
	for _, key := range []string{`"incremental":true`, `"round":2`, `"roundEnded":`, `"nextRound":`} {
		if !strings.Contains(string(data), key) {
			t.Errorf("--json lacks %s: %s", key, data)
		}
	}
	// A full job says nothing of rounds.
	f.l.Mode("job", false, time.Hour)
	if err := workdir.SaveCheckpoint(dir.Checkpoint("job"), &plan.Checkpoint{Job: "job", Done: true, Stats: plan.Stats{Tasks: 1}}); err != nil {
		t.Fatal(err)
	}
	st = ledgerStatus(t, dir)
	data, _ = json.Marshal(st)
	if st.State != Failed || strings.Contains(string(data), "round") || strings.Contains(string(data), "incremental") {
		t.Fatalf("full job: %s %s", st.State, data)
	}
}

func TestLaggingCountersKeepTheJobRunning(t *testing.T) {
	dir := workdir.Dir(t.TempDir())
	f := newFiler(t, dir)
	tk := task("T1", 1)
	f.plan(tk)
	f.progress("T1", "w1", 0, 0)
	f.result(tk, "w1", transfer.Succeed)
	// The scan ended with a second task the file does not count yet.
	if err := workdir.SaveCheckpoint(dir.Checkpoint("job"), &plan.Checkpoint{Job: "job", Done: true, Stats: plan.Stats{Tasks: 2}}); err != nil {
		t.Fatal(err)
	}
	if st := ledgerStatus(t, dir); st.State != Running {
		t.Fatalf("state %s with a planned task not counted yet, want Running", st.State)
	}
}

func TestForgottenJobIsNotWrittenAgain(t *testing.T) {
	dir := workdir.Dir(t.TempDir())
	f := newFiler(t, dir)
	f.plan(task("T1", 1))
	f.l.Forget("job")
	if err := os.RemoveAll(dir.Job("job")); err != nil {
		t.Fatal(err)
	}
	f.l.Tick()
	if err := f.l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir.Job("job")); !os.IsNotExist(err) {
		t.Fatalf("a cleaned job's folder came back: %v", err)
	}
}

// TestLedgerReportsADamagedTask: a job with an unreadable TASK file is
// loaded with the folder listed as damaged, its status names the folder
// and is not Succeed, and the other jobs load as usual.
func TestLedgerReportsADamagedTask(t *testing.T) {
	dir := workdir.Dir(t.TempDir())
	bad := dir.Task("bad", workdir.Succeed, "", "T1")
	if err := workdir.WriteFile(filepath.Join(bad, workdir.TaskFile), []byte("{torn")); err != nil {
		t.Fatal(err)
	}
	if err := workdir.SaveCheckpoint(dir.Checkpoint("bad"), &plan.Checkpoint{Job: "bad", Done: true, Stats: plan.Stats{Tasks: 1}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := FilePlanned(dir, task("T1", 2)); err != nil {
		t.Fatal(err)
	}
	l := NewLedger(dir, nil)
	if err := l.Open(); err != nil {
		t.Fatalf("open: %v", err)
	}
	if doc, ok := ReadCounters(dir, "job"); !ok || doc.Pending != 1 {
		t.Fatalf("the good job's counters %+v (%v)", doc, ok)
	}
	if doc, ok := ReadCounters(dir, "bad"); !ok || len(doc.Damaged) != 1 || doc.Damaged[0] != bad {
		t.Fatalf("the damaged job's counters %+v (%v)", doc, ok)
	}
	st, err := ReadStatus(dir, "bad")
	if err != nil || st.State == Succeed || !strings.Contains(st.Reason, bad) {
		t.Fatalf("stat of the damaged job: %s %q (%v)", st.State, st.Reason, err)
	}
}

// TestLedgerCallsIdleAsTheLastTaskIsFiled: the idle hook fires when the
// job's last pending or running task is filed, with the counters that
// show it already written, and not while any task is still open
// (nor again when a filed result comes back twice).
func TestLedgerCallsIdleAsTheLastTaskIsFiled(t *testing.T) {
	dir := workdir.Dir(t.TempDir())
	var idle []string
	var stateThen string
	l := NewLedger(dir, func(job string) {
		idle = append(idle, job)
		stateThen = ledgerStatus(t, dir).State
	})
	if err := l.Open(); err != nil {
		t.Fatal(err)
	}
	f := &filer{t: t, dir: dir, l: l}
	if err := workdir.SaveCheckpoint(dir.Checkpoint("job"), &plan.Checkpoint{Job: "job", Done: true, Stats: plan.Stats{Tasks: 2}}); err != nil {
		t.Fatal(err)
	}
	t1, t2 := task("T1", 2), task("T2", 1)
	f.plan(t1)
	f.plan(t2)
	f.progress("T1", "w1", 0, 0)
	f.progress("T2", "w1", 0, 0)
	f.result(t1, "w1", transfer.Succeed, transfer.Succeed)
	if len(idle) != 0 {
		t.Fatalf("idle called with T2 still running: %v", idle)
	}
	f.result(t2, "w1", transfer.Succeed)
	if len(idle) != 1 || idle[0] != "job" {
		t.Fatalf("idle calls after the last task: %v, want [job]", idle)
	}
	if stateThen != Succeed {
		t.Fatalf("the status idle's caller read: %s, want %s (counters written first)", stateThen, Succeed)
	}
	f.result(t2, "w1", transfer.Succeed) // redelivered
	if len(idle) != 1 {
		t.Fatalf("idle called again for a result filed twice: %v", idle)
	}
}
