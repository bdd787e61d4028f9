package console

import (
	"fmt"
	"time"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/master"
	"github.com/ossimport/ossimport/internal/tracker"
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
	switch {
	case now.Sub(lv.Seen) > leaderStale: // no service runs here
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
