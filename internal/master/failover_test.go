package master_test

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/job"
	"github.com/ossimport/ossimport/internal/master"
	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/memory"
	"github.com/ossimport/ossimport/internal/testenv"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/workdir"
	"github.com/ossimport/ossimport/internal/worker"
)

// gatedSource lists in pages of 10 (each one a scan checkpoint) and holds
// the listing past key page until listGate is opened, and the reads of
// one key as holdSource does.
type gatedSource struct {
	*holdSource
	page     string
	listGate chan struct{}
}

func (g *gatedSource) List(ctx context.Context, opts storage.ListOptions) (storage.Page, error) {
	opts.Limit = 10
	if g.page != "" && opts.Token >= g.page {
		select {
		case <-g.listGate:
		case <-ctx.Done():
			return storage.Page{}, ctx.Err()
		}
	}
	return g.Store.List(ctx, opts)
}

// service is one service's master in a failover test.
type service struct {
	m      *master.Master
	dir    workdir.Dir
	b      *bus.Bus
	cancel context.CancelFunc
	done   chan struct{}
}

// stop stops the service gracefully (it releases the lease).
func (s *service) stop() { s.cancel(); <-s.done }

// crash stops it as kill -9 would: its connection drops first, so its
// lease is neither renewed nor released.
func (s *service) crash() { s.b.Close(); s.cancel(); <-s.done }

// failover is a cluster whose services each have their own working
// directory, over a gated source and a memory destination.
type failover struct {
	*cluster
	src     *gatedSource
	dst     *memory.Store
	files   map[string][]byte
	resolve job.Resolver
	// poll is the masters' Poll (100 ms when zero).
	poll time.Duration
}

func newFailover(t *testing.T, objects int) *failover {
	c := newCluster(t)
	f := &failover{cluster: c, dst: memory.New("dst"), files: map[string][]byte{},
		src: &gatedSource{holdSource: &holdSource{Store: memory.New("src"), release: make(chan struct{})}, listGate: make(chan struct{})}}
	for i := range objects {
		key := fmt.Sprintf("k%03d", i)
		f.files[key] = bytes.Repeat([]byte{byte('a' + i%26)}, 100+i)
		meta := storage.Metadata{User: map[string]string{storage.ModTimeMetaKey: "1700000000"}}
		if _, err := f.src.Put(t.Context(), key, bytes.NewReader(f.files[key]), int64(len(f.files[key])), meta); err != nil {
			t.Fatal(err)
		}
	}
	f.resolve = withStores(f.src, f.dst)
	return f
}

// startService runs a master on its own working directory (the cluster's
// for the first).
func (f *failover) startService(name string, dir workdir.Dir) *service {
	f.t.Helper()
	ctx, cancel := context.WithCancel(f.ctx)
	s := &service{dir: dir, b: f.connect(name), cancel: cancel, done: make(chan struct{})}
	m, err := master.New(master.Options{Dir: dir, Bus: s.b, Settings: master.SettingsFrom(f.sys), Poll: cmp.Or(f.poll, 100*time.Millisecond), Resolve: f.resolve, Name: name})
	if err != nil {
		f.t.Fatal(err)
	}
	s.m = m
	f.wg.Go(func() { defer close(s.done); _ = m.Run(ctx) })
	return s
}

func (f *failover) startWorker(name string) {
	w, err := worker.New(worker.Options{Name: name, Bus: f.connect(name), Settings: worker.SettingsFrom(f.sys), KeepAlive: 300 * time.Millisecond, Resolve: f.resolve})
	if err != nil {
		f.t.Fatal(err)
	}
	f.wg.Go(func() { _ = w.Run(f.ctx) })
}

// leader waits for the named service to hold the master lease, as the
// view of dir records it.
func (f *failover) leader(dir workdir.Dir, name string) master.LeaderView {
	f.t.Helper()
	var v master.LeaderView
	testenv.Wait(f.t, 60*time.Second, name+" to be the active master", func() bool {
		v, _ = master.ReadLeader(dir)
		return v.Name == name
	}, func() string { return fmt.Sprintf("last seen %+v", v) })
	return v
}

// status waits for the job to reach state in dir's view.
func (f *failover) status(dir workdir.Dir, job, state string) tracker.JobStatus {
	f.t.Helper()
	var st tracker.JobStatus
	testenv.Wait(f.t, 60*time.Second, "job "+job+" to reach "+state+" in "+string(dir), func() bool {
		var err error
		st, err = tracker.ReadStatus(dir, job)
		return err == nil && st.State == state
	}, func() string { return fmt.Sprintf("last status %+v\n%s", st, failedDetail(dir, job)) })
	return st
}

// check checks the destination and that the view counted every object
// once, each task filed once.
func (f *failover) check(st tracker.JobStatus, tasks int) {
	f.t.Helper()
	for key, want := range f.files {
		var got []byte
		r, err := f.dst.Open(f.ctx, key, 0, -1)
		if err == nil {
			got, err = io.ReadAll(r)
			r.Close()
		}
		if err != nil || !bytes.Equal(got, want) {
			f.t.Errorf("%s at the destination differs from the source (%v)", key, err)
		}
	}
	n := int64(len(f.files))
	if st.Objects.Total != n || st.Objects.Done != n || st.Counters.Copied+st.Counters.Skipped != n || st.FailedObjs != 0 || st.Succeed != tasks || st.Failed != 0 {
		f.t.Errorf("status %+v; want %d objects planned, done and copied or skipped once, %d tasks succeeded", st, n, tasks)
	}
}

// TestStandbyTakesOverMidCopy: the active master dies (its connection
// drops) while a task is running; the standby, whose view kept up from
// the journal, takes over after the lease's TTL and the job ends Succeed
// in its view with every object copied and counted once.
func TestStandbyTakesOverMidCopy(t *testing.T) {
	f := newFailover(t, 60)
	f.src.key = "k059"
	close(f.src.listGate)
	a := f.startService("a", f.dir)
	f.leader(f.dir, "a")
	bdir := workdir.Dir(t.TempDir())
	b := f.startService("b", bdir)
	f.startWorker("10.0.0.1")
	f.submit("ha_job", "")
	// Every task but the held object's is filed, in both views.
	for _, dir := range []workdir.Dir{f.dir, bdir} {
		testenv.Wait(t, 60*time.Second, "11 of 12 tasks to succeed in "+string(dir), func() bool {
			st, err := tracker.ReadStatus(dir, "ha_job")
			return err == nil && st.Succeed == 11 && st.ScanFinished
		})
	}
	if v, _ := master.ReadLeader(bdir); v.Name != "a" {
		t.Fatalf("the standby's view names %+v as the master, want a", v)
	}
	killed := time.Now()
	a.crash()
	v := f.leader(bdir, "b")
	t.Logf("takeover %v after the crash", v.Since.Sub(killed).Round(time.Millisecond))
	close(f.src.release)
	f.check(f.status(bdir, "ha_job", tracker.Succeed), 12)
	b.stop()

	// The first service, back, catches up from the journal.
	f.startService("a", f.dir)
	f.check(f.status(f.dir, "ha_job", tracker.Succeed), 12)
}

// TestStandbyTakesOverMidScan: the active master dies while the scan is
// held after its first page; the standby resumes the scan from the
// checkpoint in JetStream and nothing is planned twice.
func TestStandbyTakesOverMidScan(t *testing.T) {
	f := newFailover(t, 40)
	f.src.page = "k009"
	close(f.src.release)
	a := f.startService("a", f.dir)
	f.leader(f.dir, "a")
	bdir := workdir.Dir(t.TempDir())
	f.startService("b", bdir)
	f.startWorker("10.0.0.1")
	f.submit("scan_job", "")
	testenv.Wait(t, 60*time.Second, "the first page's 2 tasks to succeed in the standby's view", func() bool {
		st, err := tracker.ReadStatus(bdir, "scan_job")
		return err == nil && st.Succeed == 2
	})
	a.crash()
	f.leader(bdir, "b")
	close(f.src.listGate)
	f.check(f.status(bdir, "scan_job", tracker.Succeed), 8)
}

// TestSecondServiceIsAStandby: a service started on another working
// directory against the NATS of a finished job becomes a standby: it
// builds its view of the job from the journal and changes nothing.
func TestSecondServiceIsAStandby(t *testing.T) {
	f := newFailover(t, 20)
	close(f.src.listGate)
	close(f.src.release)
	f.startService("a", f.dir)
	f.startWorker("10.0.0.1")
	f.submit("done_job", "")
	want := f.status(f.dir, "done_job", tracker.Succeed)
	probe := f.connect("probe")
	end, err := probe.JournalEnd(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	bdir := workdir.Dir(t.TempDir())
	f.startService("b", bdir)
	got := f.status(bdir, "done_job", tracker.Succeed)
	f.check(got, 4)
	if got.Objects != want.Objects || got.Counters.Copied != want.Counters.Copied || got.Succeed != want.Succeed {
		t.Errorf("the standby's view %+v differs from the master's %+v", got, want)
	}
	if v, _ := master.ReadLeader(bdir); v.Name != "a" {
		t.Errorf("the standby's view names %+v as the master, want a", v)
	}
	if after, err := probe.JournalEnd(f.ctx); err != nil || after != end {
		t.Errorf("the journal grew from %d to %d entries (%v): the standby changed something", end, after, err)
	}
	tasks := workdir.Subdirs(filepath.Join(bdir.Job("done_job"), workdir.Succeed))
	if len(tasks) != 4 {
		t.Errorf("the standby's view holds %d succeeded tasks, want 4", len(tasks))
	}
}

// TestRebuildTheViewFromTheJournal: with the service stopped, the view is
// rebuilt from the journal to the same state; the previous view is kept
// aside, and a job the journal knows less of than the view (journaled
// by an earlier version) keeps its view.
func TestRebuildTheViewFromTheJournal(t *testing.T) {
	f := newFailover(t, 20)
	close(f.src.listGate)
	close(f.src.release)
	a := f.startService("a", f.dir)
	f.startWorker("10.0.0.1")
	f.submit("kept_job", "")
	want := f.status(f.dir, "kept_job", tracker.Succeed)
	a.stop()

	// A job only the view knows: one failed task.
	failed := f.dir.Task("old_job", workdir.Failed, "", "T1")
	if err := os.MkdirAll(failed, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(failed, workdir.TaskFile), []byte(`{"id":"T1","job":"old_job","objects":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := master.Rebuild(f.ctx, master.Options{Dir: f.dir, Bus: f.connect("rebuild"), Settings: master.SettingsFrom(f.sys)})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Kept, []string{"old_job"}) || !slices.Equal(r.Jobs, []string{"kept_job", "old_job"}) || r.Entries == 0 {
		t.Fatalf("rebuild report %+v", r)
	}
	if _, err := os.Stat(filepath.Join(r.Aside, "kept_job")); err != nil {
		t.Fatalf("the previous view was not kept aside: %v", err)
	}
	got := f.status(f.dir, "kept_job", tracker.Succeed)
	f.check(got, 4)
	if got.Objects != want.Objects || got.Counters.Copied != want.Counters.Copied {
		t.Errorf("rebuilt %+v, was %+v", got, want)
	}
	if _, err := os.Stat(failed); err != nil {
		t.Errorf("the job the journal does not know lost its view: %v", err)
	}
}

// TestEndSeenWakesWaitersAtTheJobsEnd: a caller that took EndSeen's
// channel before a job ran finds it closed once the job is Succeed (also
// one with nothing to copy, ended by its scan alone), or aborted, with
// the job's final status already readable: `run` learns
// of its job's end from it rather than at its next look. The masters
// look for ends only when told (their Poll is an hour), so the end
// itself must wake them. The next channel is a new one.
func TestEndSeenWakesWaitersAtTheJobsEnd(t *testing.T) {
	tests := []struct {
		name    string
		objects int
		abort   bool // abort the job while its scan is held
		state   string
	}{
		{"succeeds", 12, false, tracker.Succeed},
		{"aborted", 12, true, tracker.Abort},
		// No task is ever filed: only the scan's end wakes the master.
		{"nothing to copy", 0, false, tracker.Succeed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFailover(t, tc.objects)
			f.poll = time.Hour
			close(f.src.release)
			if !tc.abort {
				close(f.src.listGate)
			}
			s := f.startService("a", f.dir)
			seen := s.m.EndSeen()
			if !tc.abort {
				// Without a worker, no result is filed before the
				// abort: nothing but the abort wakes the master.
				f.startWorker("10.0.0.1")
			}
			f.submit("ends_job", "")
			if tc.abort {
				testenv.Wait(t, 60*time.Second, "the job to be planned", func() bool {
					_, err := tracker.ReadStatus(f.dir, "ends_job")
					return err == nil
				})
				if err := f.connect("console").Append(f.ctx, "ends_job", bus.KindAbort, "", "", []byte("stopped by the test")); err != nil {
					t.Fatal(err)
				}
			}
			testenv.Wait(t, 60*time.Second, "EndSeen's channel to close at the job's end", func() bool {
				select {
				case <-seen:
					return true
				default:
					return false
				}
			})
			if st, err := tracker.ReadStatus(f.dir, "ends_job"); err != nil || st.State != tc.state {
				t.Fatalf("the channel closed with the job %s (%v), want %s", st.State, err, tc.state)
			}
			select {
			case <-s.m.EndSeen():
				t.Error("the channel after the end is closed already")
			default:
			}
			if !tc.abort && tc.objects > 0 {
				f.check(f.status(f.dir, "ends_job", tracker.Succeed), 3)
			}
		})
	}
}
