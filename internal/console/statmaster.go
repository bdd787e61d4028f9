package console

import (
	"context"
	"fmt"
	"time"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/master"
	"github.com/ossimport/ossimport/internal/service"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/workdir"
)

// leaderStale is the age past which the view's record of the master
// lease is out of date: every running service refreshes it every fifth
// of the lease's TTL, so no service runs on this working directory.
const leaderStale = bus.DefaultLeaseTTL + 5*time.Second

// noMasterGiveUp is how long --until-done waits for a master to come
// back before it says that none runs.
const noMasterGiveUp = time.Minute

// noteMaster fills in the jobs' Master and, on jobs not ended while no
// master runs, NoMasterSince, from the view's record of the master lease.
// Nothing is said without a record (a service of an earlier version).
func (v *statView) noteMaster(jobs []tracker.JobStatus, now time.Time) {
	v.master = nil
	lv, err := master.ReadLeader(v.dir)
	if err != nil {
		return
	}
	var since time.Time
	// No service runs here when its last look is old, or when it said it
	// stopped after it.
	stale := now.Sub(lv.Seen) > leaderStale || (!lv.Stopped.IsZero() && !lv.Stopped.Before(lv.Seen))
	switch {
	case stale && v.askLeader != nil:
		// No service runs here, but one may lead elsewhere on the
		// shared NATS: ask the lease itself.
		if l, ok := v.askLeader(); ok {
			if v.stderr != nil {
				fmt.Fprintf(v.stderr, "warning: no service has run on this working directory since %s, so its view is out of date; the active master is %s: run stat on its working directory\n",
					lv.Seen.Local().Format(time.DateTime), l.Name)
			}
			lv = master.LeaderView{Name: l.Name, Since: l.Since, Renewed: l.Renewed, Seen: now}
			v.master = &lv
			break
		}
		since = lv.Renewed
		if since.IsZero() {
			since = lv.Seen
		}
	case stale: // no service runs here
		since = lv.Renewed
		if since.IsZero() {
			since = lv.Lost
		}
		if since.IsZero() {
			since = lv.Seen
		}
	case lv.Name == "": // a standby sees no master
		since = lv.Lost
	default:
		v.master = &lv
	}
	for i := range jobs {
		if v.master != nil {
			jobs[i].Master = lv.Name
		} else if !jobs[i].Ended() {
			jobs[i].NoMasterSince = since
		}
	}
}

// masterGone returns an error naming a job that no master has run for
// noMasterGiveUp: --until-done would wait for it forever.
func masterGone(jobs []tracker.JobStatus, now time.Time) error {
	for _, st := range jobs {
		if !st.NoMasterSince.IsZero() && now.Sub(st.NoMasterSince) > noMasterGiveUp {
			return fmt.Errorf("job %s is %s but no master has run it since %s: the service is not running (start it with console.sh start; see logs/master.log for how it ended)",
				st.Name, st.State, st.NoMasterSince.Local().Format(time.DateTime))
		}
	}
	return nil
}

// leaseAsker asks the shared NATS (natsUrl's cluster, or the servers of
// natsEmbeddedCluster) for the master lease's holder, within a few
// seconds; nil without one (the single embedded server runs only with
// this working directory's service).
func leaseAsker(ctx context.Context, s *config.Sys) func() (bus.Leader, bool) {
	o, ok := service.SharedConn(s, workdir.Dir(s.WorkingDir), "ossimport-console")
	if !ok {
		return nil
	}
	return func() (bus.Leader, bool) {
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		b, err := bus.Connect(ctx, o)
		if err != nil {
			return bus.Leader{}, false
		}
		defer b.Close()
		if err := b.Setup(ctx, service.SetupOptions(s)); err != nil {
			return bus.Leader{}, false
		}
		l, ok, err := b.CurrentLeader(ctx)
		return l, ok && err == nil
	}
}
