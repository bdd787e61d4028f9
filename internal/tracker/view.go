package tracker

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/workdir"
)

// repairTasks restores the damaged task folders of every job from its
// plan log (Repair) before anything is filed: each damage is logged with
// its path, and a task whose folder was lost is queued again, so no
// planned object is dropped and no job is Succeed with objects missing.
func (t *Tracker) repairTasks(ctx context.Context) {
	for _, name := range Jobs(t.opts.Dir) {
		damages, requeue, err := Repair(t.opts.Dir, name)
		for _, d := range damages {
			t.svc.Warn("damaged task found", "job", name, "task", d.Task, "path", d.Path, "detail", d.String())
			t.jlog.Warn("damaged task found", "job", name, "task", d.Task, "path", d.Path, "detail", d.String())
		}
		if err != nil {
			t.svc.Error("cannot repair the job's task folders", "job", name, "err", err)
		}
		for _, task := range requeue {
			// Queued as a retry, numbered by the time: the first run's
			// message id may still be in the queue's duplicates window.
			data, err := protocol.EncodeTask(task)
			if err == nil {
				err = t.opts.Bus.RetryTask(ctx, task.Job, task.ID, int(time.Now().Unix()), data)
			}
			if err != nil {
				t.svc.Error("cannot queue a restored task", "job", name, "task", task.ID, "err", err)
			}
		}
	}
}

// openBook loads the jobs' counters (Ledger), rebuilding those a crash
// left unmarked, before anything is filed. A job whose counters cannot
// be rebuilt is still served: stat reads its folders.
func (t *Tracker) openBook() {
	if err := t.book.Open(); err != nil {
		t.svc.Warn("cannot keep the counters of some jobs; stat reads their task folders", "err", err)
	}
}

// closeBook writes the jobs' counters with the clean mark, once nothing
// is filed any more.
func (t *Tracker) closeBook() {
	if err := t.book.Close(); err != nil {
		t.svc.Warn("cannot record the job counters; the next start rebuilds them", "err", err)
	}
}

// workdir.SubmittedFile in a job's folder records where the job was
// submitted from (a Submission as JSON): a restore reads the job file
// there when the view's copy has its secrets masked.

// Submission is the content of workdir.SubmittedFile.
type Submission struct {
	File      string    `json:"file"`
	Submitted time.Time `json:"submitted"`
}

// ReadSubmission reads where a job was submitted from; the zero
// Submission when the view does not record it.
func ReadSubmission(dir workdir.Dir, job string) Submission {
	var sub Submission
	if data, err := os.ReadFile(filepath.Join(dir.Job(job), workdir.SubmittedFile)); err == nil {
		_ = json.Unmarshal(data, &sub)
	}
	return sub
}

// KeepJobFiles writes a job's files into the view as soon as it is
// planned (RestoreJobFiles), unless they are there.
func (t *Tracker) KeepJobFiles(ctx context.Context, name string) {
	if _, err := os.Stat(filepath.Join(t.opts.Dir.Job(name), workdir.SubmittedFile)); err == nil {
		return
	}
	if pj, err := SubmittedJob(ctx, t.opts.Bus, name); err == nil {
		t.RestoreJobFiles(ctx, pj)
	}
}

// RestoreJobFiles writes a job's files that come from JetStream and not
// from its journal into the view, when missing: where it was submitted
// from, the job file (secrets masked) and the scan checkpoint's copy.
func (t *Tracker) RestoreJobFiles(ctx context.Context, pj protocol.Job) {
	t.keepSubmission(pj)
	if _, err := os.Stat(t.opts.Dir.JobFile(pj.Name)); errors.Is(err, os.ErrNotExist) {
		if err := workdir.WriteFile(t.opts.Dir.JobFile(pj.Name), config.MaskJobFile(pj.Config)); err != nil {
			t.svc.Warn("cannot keep the job file in the view", "job", pj.Name, "err", err)
		}
	}
	if _, err := os.Stat(t.opts.Dir.Checkpoint(pj.Name)); errors.Is(err, os.ErrNotExist) {
		if data, err := t.opts.Bus.Checkpoints().Get(ctx, pj.Name); err == nil {
			_ = workdir.WriteFile(t.opts.Dir.Checkpoint(pj.Name), data)
		}
	}
}

// keepSubmission records in the view where a job was submitted from,
// when it is not recorded yet.
func (t *Tracker) keepSubmission(pj protocol.Job) {
	path := filepath.Join(t.opts.Dir.Job(pj.Name), workdir.SubmittedFile)
	if _, err := os.Stat(path); err == nil {
		return
	}
	file := pj.File
	if abs, err := filepath.Abs(file); err == nil && file != "" {
		file = abs
	}
	data, _ := json.Marshal(Submission{File: file, Submitted: pj.Submitted})
	if err := workdir.WriteFile(path, data); err != nil {
		t.svc.Warn("cannot record where the job was submitted from", "job", pj.Name, "err", err)
	}
}

// workdir.LostFile in the view's master folder marks a restore to do after
// a lost NATS store: it is written when the loss is noticed (the journal
// the view followed is not the one there now) and removed once the active
// master restored every job (RestoreDone), so a restore interrupted by a
// crash is done again.

// lostMark is the content of workdir.LostFile.
type lostMark struct {
	// Journal is the journal stream the view was filed from, Filed how
	// far.
	Journal string    `json:"journal"`
	Filed   uint64    `json:"filed"`
	Noticed time.Time `json:"noticed"`
}

func lostPath(dir workdir.Dir) string { return dir.Master(workdir.LostFile) }

// noteLost records that the journal the view followed is gone.
func (t *Tracker) noteLost(mk marker) {
	if _, err := os.Stat(lostPath(t.opts.Dir)); err == nil {
		return
	}
	data, _ := json.Marshal(lostMark{Journal: mk.Journal, Filed: mk.Seq, Noticed: time.Now()})
	if err := workdir.WriteFile(lostPath(t.opts.Dir), data); err != nil {
		t.svc.Warn("cannot record that the NATS store was lost", "err", err)
	}
}

// StoreLost reports whether a restore is to be done: one was noticed and
// not finished, or the view's journal marker names another journal
// stream than the one there now.
func (t *Tracker) StoreLost(ctx context.Context) (bool, error) {
	if _, err := os.Stat(lostPath(t.opts.Dir)); err == nil {
		return true, nil
	}
	var mk marker
	data, err := os.ReadFile(markerPath(t.opts.Dir))
	if err != nil || json.Unmarshal(data, &mk) != nil || mk.Journal == "" {
		return false, nil // a new view, or one being rebuilt
	}
	id, err := t.opts.Bus.JournalID(ctx)
	if err != nil {
		return false, err
	}
	if id == mk.Journal {
		return false, nil
	}
	t.noteLost(mk)
	return true, nil
}

// RestoreDone records that every job was restored after a lost NATS
// store.
func (t *Tracker) RestoreDone() error {
	if err := os.Remove(lostPath(t.opts.Dir)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
