package console

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/master"
	"github.com/ossimport/ossimport/internal/testenv"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/workdir"
)

// TestServicesFailOverOnANATSCluster: two services (each its own working
// directory) on a 3-node NATS cluster; the active master is killed with
// SIGKILL while the job copies, and later one NATS node too. The standby
// takes over, and the job ends Succeed in its view with every object
// byte-identical at the destination (versitygw), each planned once,
// copied or skipped once, and no unfinished multipart upload left.
func TestServicesFailOverOnANATSCluster(t *testing.T) {
	c := testenv.StartNATSCluster(t, 3, testenv.NATSClusterOptions{})
	tokenFile := filepath.Join(t.TempDir(), "nats.token")
	if err := os.WriteFile(tokenFile, []byte(c.Token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sys := fmt.Sprintf("natsUrl=%s\nnatsCredsFile=%s\nworkerTaskThreadNum=2\nworkerMaxThroughput(KB/s)=300\n", c.URLs(), tokenFile)
	a, d := newS3Home(t, sys, "taskObjectCountLimit=10\n")
	b := newTestHome(t, sys, "")
	files := a.writeFiles(a.src, 120, 8<<10, 0) // 12 tasks
	for i := range 3 {
		a.addBig(files, fmt.Sprintf("big/part%d.bin", i), 3<<20+i*1000, byte(i)) // multipart: 1 MiB parts
	}
	a.mustConsole("", "submit", a.job)
	a.mustConsole("Start import service completed.\n", "start")
	leader := func(h *testHome) master.LeaderView {
		v, _ := master.ReadLeader(h.workdir())
		return v
	}
	a.waitFor(60*time.Second, "the first service to lead", func() bool { return strings.Contains(leader(a).Name, fmt.Sprintf("(pid %d)", a.servicePid())) })
	b.mustConsole("Start import service completed.\n", "start")
	b.waitFor(60*time.Second, "the second service to stand by", func() bool {
		v := leader(b)
		return v.Name == leader(a).Name && time.Since(v.Seen) < 5*time.Second
	})
	if out := b.mustConsole("", "stat", failJob).stdout; !strings.Contains(out, "Master:"+leader(a).Name) {
		t.Fatalf("the standby's stat does not name the master:\n%s", out)
	}

	// Kill the leader once a quarter of the objects are copied.
	view := func(h *testHome) tracker.JobStatus {
		st, _ := tracker.ReadStatus(h.workdir(), failJob)
		return st
	}
	a.waitFor(90*time.Second, "a quarter of the objects copied", func() bool { return view(a).Objects.Done >= int64(len(files)/4) })
	if st := view(a); st.State == tracker.Succeed {
		t.Fatal("the job ended before the leader was killed; slow it down")
	}
	killed := time.Now()
	kill(t, a.servicePid())
	b.waitFor(60*time.Second, "the standby to take over", func() bool { return strings.Contains(leader(b).Name, fmt.Sprintf("(pid %d)", b.servicePid())) })
	took := leader(b).Since.Sub(killed)
	if took > 15*time.Second {
		t.Errorf("the standby took over %v after the leader was killed; want within 15s", took)
	}
	done := view(b).Objects.Done
	b.waitFor(120*time.Second, "a result filed after the takeover", func() bool { return view(b).Objects.Done > done })
	// bench/failover.sh reads this line.
	t.Logf("failover: takeover %v, first result filed %v after the kill", took.Round(time.Millisecond), time.Since(killed).Round(time.Millisecond))

	// One NATS node goes too (not the one the new leader would need: any
	// one of three leaves a quorum).
	c.Kill(0)
	st := b.waitState(failJob, tracker.Succeed, 180*time.Second)
	if !strings.Contains(st, "Master:") {
		t.Errorf("stat after the takeover does not name the master:\n%s", st)
	}
	d.verify(t, files)
	d.noUploadsLeft(t)
	got := view(b)
	n := int64(len(files))
	if got.Objects.Total != n || got.Objects.Done != n || got.Counters.Copied+got.Counters.Skipped != n || got.FailedObjs != 0 || got.Failed != 0 {
		t.Fatalf("the standby's view %+v: want %d objects planned and done once", got, n)
	}
	if ids := workdir.Subdirs(filepath.Join(b.workdir().Job(failJob), workdir.Succeed)); len(ids) != got.Succeed || got.Pending+got.Dispatched != 0 {
		t.Fatalf("%d succeeded task folders, status %+v", len(ids), got)
	}
	b.checkKeysOnce(failJob, files)
	// On the killed service's working directory, stat names the master
	// that leads elsewhere (asked of the shared NATS) and says the view
	// there is out of date.
	a.waitFor(60*time.Second, "stat on the killed service's working directory to name the new master", func() bool {
		r := a.console("stat", failJob)
		return strings.Contains(r.stdout, "Master:"+leader(b).Name) && strings.Contains(r.stderr, "its view is out of date")
	})
	b.mustConsole("Stop import service completed.\n", "stop")
}
