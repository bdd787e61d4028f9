package console

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ossimport/ossimport/internal/job"
	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/progress"
	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// Dry-run actions, the first column of the list.
const (
	dryCopy    = "copy"
	drySkip    = "skip"
	dryFail    = "fail"
	dryExclude = "exclude"
)

// Dry-run reasons the planner and the copier do not name themselves.
const (
	reasonExists  = "exists at the destination (isSkipExistFile)"
	reasonSymlink = "symbolic link (isAllowSymbolicLink=false)"
)

// dryRunDir is the folder of the working directory that keeps the dry
// runs' lists.
const dryRunDir = "dryrun"

// dryRun plans the job and reports what a run would copy, skip, fail on
// and leave out by each filter, with counts and bytes: on screen, and one
// line per object in <workingDir>/dryrun/<job>-<time>.csv (action,
// reason, key, destination key, size, modification time). With
// isSkipExistFile it asks the destination for every planned object (a
// HEAD each, workerTaskThreadNum at once). Nothing is written at the
// destination or in the job's folder.
func dryRun(ctx context.Context, stdout, stderr io.Writer, spec *job.Spec, src storage.Source, dst storage.Destination, dir workdir.Dir) error {
	fmt.Fprintf(stderr, "job %s (dry run): %s -> %s\n", spec.Name, src.String(), dst.String())
	copier, err := transfer.New(dst, src, spec.Transfer)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	path := filepath.Join(string(dir), dryRunDir, spec.Name+"-"+time.Now().Format("20060102-150405")+".csv")
	rep, err := newDryReport(path)
	if err != nil {
		return &ExitError{Code: 1, Err: err}
	}
	opts := spec.Plan
	opts.Excluded = rep.excluded
	heads := make(chan struct{}, max(spec.Threads, 1))
	emit := func(ctx context.Context, t plan.Task) error {
		rows := make([]dryRow, len(t.Objects))
		var wg sync.WaitGroup
		for i, o := range t.Objects {
			rows[i] = dryRow{obj: o, action: dryCopy}
			switch {
			case o.IsSymlink && !spec.Transfer.AllowSymlinks:
				rows[i].action, rows[i].reason = drySkip, reasonSymlink
			case storage.CheckKey(dst, o.Dst()) != nil:
				rows[i].action, rows[i].reason = dryFail, string(transfer.InvalidName)
			case spec.Transfer.SkipExisting:
				heads <- struct{}{}
				wg.Go(func() {
					defer func() { <-heads }()
					if ok, _ := copier.Exists(ctx, o); ok {
						rows[i].action, rows[i].reason = drySkip, reasonExists
					}
				})
			}
		}
		wg.Wait()
		if err := ctx.Err(); err != nil {
			return err
		}
		return rep.task(rows)
	}
	save := func(context.Context, *plan.Checkpoint) error { return nil }
	p, err := plan.New(src, opts, emit, save)
	if err != nil {
		_ = rep.close()
		return &ExitError{Code: 2, Err: err}
	}
	started := time.Now()
	cp, err := p.Run(ctx, nil)
	if cerr := rep.close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return &ExitError{Code: 1, Err: fmt.Errorf("plan job %s: %w (the list so far is in %s)", spec.Name, err, path)}
	}
	rep.summary(stdout, spec.Name, cp.Stats)
	fmt.Fprintf(stdout, "  elapsed %s; the job's records would be under %s\n", time.Since(started).Round(time.Millisecond), dir.Job(spec.Name))
	return nil
}

// dryRow is one object of a dry run.
type dryRow struct {
	obj            transfer.Object
	action, reason string
}

// dryTally counts objects and their known bytes.
type dryTally struct{ n, bytes int64 }

func (t *dryTally) add(size int64) { t.n, t.bytes = t.n+1, t.bytes+max(size, 0) }

// dryReport streams a dry run's list and counts it by action and reason.
type dryReport struct {
	path string
	f    *os.File
	mu   sync.Mutex
	w    *csv.Writer
	err  error
	// tasks counts the planned tasks; by the action's reasons ("" for
	// copy).
	tasks int
	by    map[string]map[string]*dryTally
}

func newDryReport(path string) (*dryReport, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("dry run list: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("dry run list: %w", err)
	}
	r := &dryReport{path: path, f: f, w: csv.NewWriter(f), by: map[string]map[string]*dryTally{}}
	r.err = r.w.Write([]string{"action", "reason", "key", "destinationKey", "size", "modTime"})
	return r, nil
}

// excluded is plan.Options.Excluded: importSince and incremental
// "unchanged" are skips, the other reasons filters.
func (r *dryReport) excluded(info storage.ObjectInfo, reason string) {
	action := dryExclude
	if reason == "importSince" || reason == "unchanged" {
		action = drySkip
	}
	obj := transfer.Object{Key: info.Key, Size: info.Size, ModTime: info.ModTime}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.row(dryRow{obj: obj, action: action, reason: reason})
}

// task records a planned task's objects.
func (r *dryReport) task(rows []dryRow) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tasks++
	for _, row := range rows {
		r.row(row)
	}
	return r.err
}

// row writes and counts one object; the caller holds mu.
func (r *dryReport) row(row dryRow) {
	reasons := r.by[row.action]
	if reasons == nil {
		reasons = map[string]*dryTally{}
		r.by[row.action] = reasons
	}
	t := reasons[row.reason]
	if t == nil {
		t = &dryTally{}
		reasons[row.reason] = t
	}
	t.add(row.obj.Size)
	if r.err != nil {
		return
	}
	dstKey := ""
	if row.action != dryExclude && (row.action != drySkip || row.reason == reasonExists || row.reason == reasonSymlink) {
		dstKey = record.AuditKey(row.obj.Dst())
	}
	mtime := ""
	if !row.obj.ModTime.IsZero() {
		mtime = row.obj.ModTime.UTC().Format(time.RFC3339)
	}
	r.err = r.w.Write([]string{row.action, row.reason, record.AuditKey(row.obj.Key), dstKey, strconv.FormatInt(row.obj.Size, 10), mtime})
}

// close flushes and closes the list.
func (r *dryReport) close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.w.Flush()
	err := r.err
	if err == nil {
		err = r.w.Error()
	}
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write the dry run list %s: %w", r.path, err)
	}
	return nil
}

// total adds up one action's reasons.
func (r *dryReport) total(action string) dryTally {
	var t dryTally
	for _, rt := range r.by[action] {
		t.n, t.bytes = t.n+rt.n, t.bytes+rt.bytes
	}
	return t
}

// summary prints the counts: what would be copied, skipped (by reason),
// fail and be excluded (by filter), and where the list is.
func (r *dryReport) summary(w io.Writer, name string, st plan.Stats) {
	planned := r.total(dryCopy)
	for _, a := range []string{drySkip, dryFail} {
		for reason, t := range r.by[a] {
			if reason != "importSince" && reason != "unchanged" {
				planned.n, planned.bytes = planned.n+t.n, planned.bytes+t.bytes
			}
		}
	}
	fmt.Fprintf(w, "Job %s (dry run): %d objects (%s) planned in %d tasks, %d listed; nothing copied\n",
		name, planned.n, progress.Bytes(planned.bytes), r.tasks, st.Listed)
	groups := []struct{ action, label string }{
		{dryCopy, "would copy"},
		{drySkip, "would skip"},
		{dryFail, "would fail (names that can never be copied: rename them at the source)"},
		{dryExclude, "excluded by filters"},
	}
	type entry struct {
		label string
		t     dryTally
	}
	var lines []entry
	width := 0
	for _, g := range groups {
		t := r.total(g.action)
		if t.n == 0 && g.action != dryCopy {
			continue
		}
		lines = append(lines, entry{"  " + g.label + ":", t})
		if g.action == dryCopy {
			continue
		}
		reasons := make([]string, 0, len(r.by[g.action]))
		for reason := range r.by[g.action] {
			reasons = append(reasons, reason)
		}
		sort.Strings(reasons)
		for _, reason := range reasons {
			lines = append(lines, entry{"    " + reason + ":", *r.by[g.action][reason]})
		}
	}
	for _, l := range lines {
		if g := len(l.label); g > width && !strings.HasPrefix(l.label, "  would fail") {
			width = g
		}
	}
	for _, l := range lines {
		fmt.Fprintf(w, "%-*s %d objects (%s)\n", width, l.label, l.t.n, progress.Bytes(l.t.bytes))
	}
	counted := planned.n + r.total(dryExclude).n
	for reason, t := range r.by[drySkip] {
		if reason == "importSince" || reason == "unchanged" {
			counted += t.n
		}
	}
	if markers := st.Listed - counted; markers > 0 {
		fmt.Fprintf(w, "  directory markers (never copied): %d\n", markers)
	}
	fmt.Fprintf(w, "  list: %s (action,reason,key,destinationKey,size,modTime)\n", r.path)
}
