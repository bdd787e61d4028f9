package tracker

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// Tally is a job's task counts and finished counters, as the Ledger keeps
// them and a scan of the task folders rebuilds them.
type Tally struct {
	Pending    int `json:"pending"`
	Dispatched int `json:"dispatched"`
	Succeed    int `json:"succeed"`
	Failed     int `json:"failed"`
	// Objects and Bytes are planned, over every task.
	Objects int64 `json:"objects"`
	Bytes   int64 `json:"bytes"`
	// Finished adds up the counters of the succeed and failed tasks
	// (their Objects and Bytes left zero).
	Finished record.Counters `json:"finished"`
	// Damaged lists the task folders whose TASK file cannot be read
	// (Scan finds them; the tracker restores them at start, see Repair):
	// their objects are unknown, so the job cannot be Succeed.
	Damaged []string `json:"damaged,omitempty"`
	// Retrying counts the pending tasks queued again after a failed
	// attempt (their workdir.RetriesFile is set): the job waits on their retries.
	Retrying int `json:"retrying,omitempty"`
}

// active reports whether tasks are pending or running.
func (t Tally) active() bool { return t.Pending > 0 || t.Dispatched > 0 }

// phase is whether tasks are pending or running, and whether some run:
// the changes stat must see at once.
type phase struct{ active, running bool }

func (t Tally) phase() phase { return phase{t.active(), t.Dispatched > 0} }

// tasks is how many tasks the job holds.
func (t Tally) tasks() int64 { return int64(t.Pending + t.Dispatched + t.Succeed + t.Failed) }

// count adds (sign 1) or removes (sign -1) a task in state with its
// finished counters c.
func (t *Tally) count(state string, c record.Counters, sign int) {
	switch state {
	case workdir.Pending:
		t.Pending += sign
	case workdir.Dispatched:
		t.Dispatched += sign
	case workdir.Succeed:
		t.Succeed += sign
	case workdir.Failed:
		t.Failed += sign
	default:
		return
	}
	if state == workdir.Succeed || state == workdir.Failed {
		addCounters(&t.Finished, c, int64(sign))
	}
}

// addCounters adds sign*c to sum, leaving out c's planned Objects and
// Bytes and dropping the codes that come to zero.
func addCounters(sum *record.Counters, c record.Counters, sign int64) {
	sum.Copied += sign * c.Copied
	sum.Verified += sign * c.Verified
	sum.Skipped += sign * c.Skipped
	sum.Failed += sign * c.Failed
	sum.CopiedBytes += sign * c.CopiedBytes
	sum.SkippedBytes += sign * c.SkippedBytes
	sum.WrittenBytes += sign * c.WrittenBytes
	sum.SizeOnly += sign * c.SizeOnly
	for code, n := range c.ByCode {
		if sum.ByCode == nil {
			sum.ByCode = map[transfer.Code]int64{}
		}
		sum.ByCode[code] += sign * n
		if sum.ByCode[code] == 0 {
			delete(sum.ByCode, code)
		}
	}
	addSkippedBy(sum, c, sign)
}

// Scan rebuilds a job's tally and running tasks from its task folders:
// every TASK, DONE and progress file is read, so it takes time in
// proportion to the job's objects. ReadStatus uses it only when the job
// has no counters file; the Ledger uses it to rebuild one.
func Scan(dir workdir.Dir, job string) (Tally, []TaskProgress, error) {
	var t Tally
	var running []TaskProgress
	// Tasks move pending -> dispatched -> succeed or failed while the
	// service runs: the folders are listed in that order, and a task seen
	// twice counts in its later state, so a task moving during the reads
	// is never missed (a job is never Succeed with tasks unseen).
	type ref struct{ state, worker string }
	refs := map[string]ref{}
	var ids []string
	see := func(id string, r ref) {
		if _, ok := refs[id]; !ok {
			ids = append(ids, id)
		}
		refs[id] = r
	}
	for _, id := range workdir.Subdirs(filepath.Join(dir.Job(job), workdir.Pending)) {
		see(id, ref{state: workdir.Pending})
	}
	for _, worker := range workdir.Subdirs(filepath.Join(dir.Job(job), workdir.Dispatched)) {
		for _, id := range workdir.Subdirs(filepath.Join(dir.Job(job), workdir.Dispatched, worker)) {
			see(id, ref{state: workdir.Dispatched, worker: worker})
		}
	}
	for _, state := range []string{workdir.Succeed, workdir.Failed} {
		for _, id := range workdir.Subdirs(filepath.Join(dir.Job(job), state)) {
			see(id, ref{state: state})
		}
	}
	add := func(id string, r ref) error {
		tdir := dir.Task(job, r.state, r.worker, id)
		task, err := record.ReadTask(tdir)
		if err != nil {
			return err
		}
		t.Objects += int64(len(task.Objects))
		t.Bytes += task.Bytes
		var c record.Counters
		switch r.state {
		case workdir.Pending:
			if Retries(tdir) > 0 {
				t.Retrying++
			}
		case workdir.Dispatched:
			running = append(running, runningProgress(tdir, r.worker, task.ID, task.Objects, task.Bytes))
		case workdir.Succeed, workdir.Failed:
			c = finishedCounters(tdir, task.Objects)
		}
		t.count(r.state, c, 1)
		return nil
	}
	for _, id := range ids {
		err := add(id, refs[id])
		if errors.Is(err, fs.ErrNotExist) {
			// Moved since it was listed: count it where it is now.
			if path, state, lerr := Locate(dir, job, id); lerr == nil {
				r := ref{state: state}
				if state == workdir.Dispatched {
					r.worker = filepath.Base(filepath.Dir(path))
				}
				err = add(id, r)
			}
		}
		if err != nil {
			r := refs[id]
			if halfFiled(r.state, err) {
				continue
			}
			// A TASK file that cannot be read, or one missing from a
			// task past pending: reported by path, never dropped
			// silently (Repair restores it at the master's start).
			t.Damaged = append(t.Damaged, dir.Task(job, r.state, r.worker, id))
		}
	}
	return t, running, nil
}

// finishedCounters reads a finished task's counters: its DONE file when
// it succeeded, its progress when it failed. Planned Objects and Bytes
// are left zero.
func finishedCounters(tdir string, objs []transfer.Object) record.Counters {
	var c record.Counters
	if data, err := os.ReadFile(filepath.Join(tdir, workdir.DoneFile)); err == nil && len(data) > 0 && json.Unmarshal(data, &c) == nil {
		c.Objects, c.Bytes = 0, 0
		return c
	}
	if objs == nil {
		task, err := record.ReadTask(tdir)
		if err != nil {
			return c
		}
		objs = task.Objects
	}
	p, _ := record.ReadFinished(tdir)
	for _, o := range objs {
		if code, ok := p.Finished[o.Key]; ok {
			c.AddWhy(transfer.Result{Object: o, Code: code, Size: max(o.Size, 0)}, p.Why[o.Key])
		}
	}
	return c
}

// runningProgress is a dispatched task's progress: the last report its
// worker sent (the PROGRESS file the tracker writes), else what its
// progress file holds.
func runningProgress(tdir, worker, id string, objs []transfer.Object, bytes int64) TaskProgress {
	tp := TaskProgress{ID: id, Worker: worker, Files: Progress{Total: int64(len(objs))}, Bytes: Progress{Total: bytes}}
	var reported protocol.TaskProgress
	if data, err := os.ReadFile(filepath.Join(tdir, workdir.ProgressFile)); err == nil && json.Unmarshal(data, &reported) == nil {
		return reportedProgress(tp, reported)
	}
	p, _ := record.ReadFinished(tdir)
	for _, o := range objs {
		if code, ok := p.Finished[o.Key]; ok {
			tp.Files.Done++
			if code.OK() {
				tp.Bytes.Done += max(o.Size, 0)
			}
		}
	}
	return tp
}

// reportedProgress fills tp from a worker's report; the report's totals
// (a retry copies only the failed objects) win when it has them.
func reportedProgress(tp TaskProgress, r protocol.TaskProgress) TaskProgress {
	tp.Files.Done, tp.Bytes.Done, tp.Copied = r.FilesDone, r.BytesDone, r.BytesCopied
	if r.FilesTotal > 0 {
		tp.Files.Total = r.FilesTotal
	}
	if r.BytesTotal > 0 {
		tp.Bytes.Total = r.BytesTotal
	}
	return tp
}

// halfFiled reports whether a task folder whose TASK could not be read
// (err) is one the service died while filing: a pending folder without
// its TASK file. Planning writes it again (the checkpoint did not cover
// it), or Repair restores it from the plan log.
func halfFiled(state string, err error) bool {
	return state == workdir.Pending && errors.Is(err, fs.ErrNotExist)
}
